// A server-sent-events connection over fetch, for a page that must send a bearer
// token: the browser's EventSource cannot set headers, and a token in the URL would
// be written to every access log and proxy log on the way.
//
// It behaves as much of EventSource as LivePicture uses: `readyState` (0 connecting,
// 1 open, 2 closed), `open`, `error` and named events with `data` and `lastEventId`,
// and `close()`. Unlike EventSource it never reconnects by itself: after an error it
// is closed and the caller opens a new one (LivePicture does, with `?after=`).

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

export class FetchEventSource {
  /** `headers()` is asked when connecting (the freshest token). */
  constructor(url, headers = () => ({})) {
    this.url = url;
    this.readyState = CONNECTING;
    this.status = 0;
    this.listeners = new Map();
    this.abort = new AbortController();
    this.run(headers());
  }

  addEventListener(type, listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type).push(listener);
  }

  close() {
    this.readyState = CLOSED;
    this.abort.abort();
  }

  emit(type, event = {}) {
    for (const listener of this.listeners.get(type) ?? []) listener({ type, ...event });
  }

  fail(status = 0) {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.status = status;
    this.abort.abort();
    this.emit('error', { status });
  }

  async run(headers) {
    let response;
    try {
      response = await fetch(this.url, {
        headers: { Accept: 'text/event-stream', ...headers },
        cache: 'no-store',
        signal: this.abort.signal,
      });
    } catch {
      this.fail(0);
      return;
    }
    if (!response.ok || !response.body) {
      this.fail(response.status);
      return;
    }
    if (this.readyState === CLOSED) return;
    this.readyState = OPEN;
    this.emit('open');
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let event = { type: '', data: [], id: '' };
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        // Lines end in CRLF, LF or CR (a lone CR at the end may be half of a CRLF).
        let match;
        while ((match = /\r\n|\n|\r(?!$)/.exec(buffer))) {
          const line = buffer.slice(0, match.index);
          buffer = buffer.slice(match.index + match[0].length);
          event = this.line(line, event);
        }
      }
    } catch {
      // aborted or the connection broke: an error either way
    }
    this.fail(0);
  }

  /** One line of the stream (the SSE format, WHATWG HTML §9.2.6); the event so far. */
  line(line, event) {
    if (line === '') {
      if (event.data.length && this.readyState === OPEN) {
        this.emit(event.type || 'message', { data: event.data.join('\n'), lastEventId: event.id });
      }
      return { type: '', data: [], id: event.id };
    }
    if (line.startsWith(':')) return event; // a comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event.type = value;
    else if (field === 'data') event.data.push(value);
    else if (field === 'id' && !value.includes('\0')) event.id = value;
    return event;
  }
}

FetchEventSource.CONNECTING = CONNECTING;
FetchEventSource.OPEN = OPEN;
FetchEventSource.CLOSED = CLOSED;
