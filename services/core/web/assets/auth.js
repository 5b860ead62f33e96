// Signing in at the displays (docs/security.md, "The displays' sign-in").
//
// The server says where (`/displays/signin`: the issuer's endpoints, the page's
// client id, the scopes); 204 there means authentication is off and the pages work
// without a token, as before.
//
// - The bed board (`person`): OAuth 2.0 authorization code with PKCE (S256), no client
//   secret in the page. The code_verifier, state and nonce wait in sessionStorage
//   while the person signs in at the organisation's issuer; on the way back the state
//   must match, the ID token's issuer, audience and nonce too (it came straight from
//   the token endpoint over the connection we opened, so its signature need not be
//   checked here: OIDC Core §3.1.3.7). The tokens live in sessionStorage (gone with
//   the tab), the access token is refreshed a minute before it expires, and signing
//   out ends the session at the issuer.
// - The wall screen (`screen`): no person; its own OAuth client's credentials come
//   in the address's fragment (`#screen_client=…&screen_secret=…`, never sent to a
//   server, removed from the address bar at once) and it asks the token endpoint for
//   client-credentials tokens, again before each expires.
//
// Every API call and the live stream carry `Authorization: Bearer` (headers(); the
// stream goes over fetch, see sse.js). Signing in needs a secure context (https, or
// the loopback): without one the browser has no SHA-256 for PKCE, and a token on
// plain http could be read off the network anyway.

import { language } from './i18n.js';

const SESSION = 'ohjaamo.auth.session';
const PENDING = 'ohjaamo.auth.pending';
const SCREEN = 'ohjaamo.auth.screen';
/** Renew this long before the access token expires. */
const EARLY_MS = 60_000;
/** A screen whose token request failed asks again after this long (doubling). */
const RETRY_MIN_MS = 2_000;
const RETRY_MAX_MS = 60_000;

/** What the server said (null: authentication off) and the current session. */
const state = { config: null, session: null, onEnded: () => {}, timer: null, refreshing: null, gotToken: null };

const b64url = (bytes) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

function randomText(bytes = 32) {
  return b64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The claims of a JWT, unverified (see the top of this file for when that is right). */
export function claimsOf(jwt) {
  try {
    const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), '=')), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

function load(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key) ?? 'null');
  } catch {
    return null;
  }
}

function save(key, value) {
  if (value == null) sessionStorage.removeItem(key);
  else sessionStorage.setItem(key, JSON.stringify(value));
}

/** Whether this server wants tokens; `config` once `start()` has run. */
export function enabled() {
  return state.config != null;
}

/** The headers an API call carries: the bearer token, when there is one. */
export function headers() {
  const token = state.session?.accessToken;
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** Who is signed in: `{name, sub}`, or null. */
export function who() {
  const s = state.session;
  return s ? { name: s.name ?? s.sub, sub: s.sub } : null;
}

/** The units the screen's credential is confined to (its token's `ohjaamo_units`). */
export function units() {
  const claim = claimsOf(state.session?.accessToken ?? '')?.ohjaamo_units;
  if (typeof claim === 'string') return [claim];
  return Array.isArray(claim) ? claim.filter((u) => typeof u === 'string') : [];
}

/**
 * Whether the session may use the server's permission `name` (e.g.
 * `ohjaamo.sources.read`), by the scopes the token endpoint said it granted; true
 * without authentication, or when the issuer did not say.
 */
export function grants(name) {
  if (!state.config) return true;
  const scope = state.session?.scope;
  if (typeof scope !== 'string') return true;
  return scope.split(' ').some((s) => s === `user/${name}` || s === `system/${name}`);
}

async function tokenRequest(form, basic = null) {
  const init = {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams(form).toString(),
    cache: 'no-store',
  };
  if (basic) init.headers.Authorization = `Basic ${btoa(`${encodeURIComponent(basic[0])}:${encodeURIComponent(basic[1])}`)}`;
  const r = await fetch(state.config.tokenEndpoint, init);
  // An answer that is not JSON is an answer without tokens.
  return { ok: r.ok, status: r.status, body: await r.json().catch(() => null) };
}

function schedule(expiresInSeconds) {
  clearTimeout(state.timer);
  const wait = Math.max(5_000, expiresInSeconds * 1000 - EARLY_MS);
  state.timer = setTimeout(() => renew(), wait);
}

function keep(body, extra = {}) {
  state.session = {
    ...state.session,
    ...extra,
    accessToken: body.access_token,
    scope: body.scope ?? state.session?.scope ?? null,
    refreshToken: body.refresh_token ?? state.session?.refreshToken ?? null,
    expiresAt: Date.now() + (body.expires_in ?? 300) * 1000,
  };
  save(SESSION, state.session);
  schedule(body.expires_in ?? 300);
  state.gotToken?.();
}

/** Renews the access token now (one renewal at a time); whether it worked. */
export function renew() {
  if (!state.config) return Promise.resolve(false);
  state.refreshing ??= (state.session?.screen ? renewScreen() : renewPerson()).finally(() => {
    state.refreshing = null;
  });
  return state.refreshing;
}

async function renewPerson() {
  const refreshToken = state.session?.refreshToken;
  if (!refreshToken) return ended();
  let r;
  try {
    r = await tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: state.config.clientId });
  } catch {
    // The issuer is not reachable: try again soon; the token may still be good.
    schedule(70);
    return false;
  }
  if (!r.ok || !r.body?.access_token) return ended();
  const id = r.body.id_token ? claimsOf(r.body.id_token) : null;
  keep(r.body, id ? { idToken: r.body.id_token, name: id.name ?? state.session.name } : {});
  return true;
}

function ended() {
  state.session = null;
  save(SESSION, null);
  clearTimeout(state.timer);
  state.onEnded();
  return false;
}

let screenRetry = RETRY_MIN_MS;
async function renewScreen() {
  const { client, secret } = state.session.screen;
  let r = null;
  try {
    r = await tokenRequest({ grant_type: 'client_credentials' }, [client, secret]);
  } catch {
    r = null;
  }
  if (r?.ok && r.body?.access_token) {
    screenRetry = RETRY_MIN_MS;
    keep(r.body);
    return true;
  }
  // Not yet provisioned (503), the issuer away, or the credential revoked: the screen
  // keeps asking; what it shows turns stale meanwhile.
  clearTimeout(state.timer);
  state.timer = setTimeout(() => renew(), screenRetry);
  screenRetry = Math.min(RETRY_MAX_MS, screenRetry * 2);
  return false;
}

/**
 * Reads where to sign in and restores or completes a session. `mode` is `person`
 * (the bed board) or `screen` (the wall screen). Resolves to
 * `{enabled, signedIn, error}`; `onEnded()` is called when a session ends by itself
 * (the refresh token expired or was revoked).
 */
export async function start(mode, { onEnded = () => {} } = {}) {
  state.onEnded = onEnded;
  let r;
  try {
    r = await fetch('/displays/signin', { headers: { Accept: 'application/json' }, cache: 'no-store' });
  } catch {
    return { enabled: true, signedIn: false, error: 'unreachable' };
  }
  if (r.status === 204 || r.status === 404) return { enabled: false, signedIn: true };
  if (!r.ok) return { enabled: true, signedIn: false, error: 'unreachable' };
  state.config = await r.json();
  return mode === 'screen' ? startScreen() : startPerson();
}

async function startScreen() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('screen_client') && fragment.get('screen_secret')) {
    save(SCREEN, { client: fragment.get('screen_client'), secret: fragment.get('screen_secret') });
    history.replaceState(history.state, '', location.pathname + location.search);
  }
  const screen = load(SCREEN);
  if (!screen) return { enabled: true, signedIn: false, error: 'noScreenCredential' };
  state.session = { screen };
  // The first token before the page goes on: it must know its unit. A failed request
  // is asked again by renewScreen's timer until one succeeds.
  const first = new Promise((done) => {
    state.gotToken = done;
  });
  renew();
  await first;
  return { enabled: true, signedIn: true };
}

async function startPerson() {
  const params = new URLSearchParams(location.search);
  if (params.has('state') && (params.has('code') || params.has('error'))) return finishSignIn(params);
  const session = load(SESSION);
  if (session?.accessToken) {
    state.session = session;
    if (session.expiresAt - Date.now() < EARLY_MS) {
      if (!(await renew())) return { enabled: true, signedIn: false };
    } else {
      schedule((session.expiresAt - Date.now()) / 1000);
    }
    return { enabled: true, signedIn: true };
  }
  return { enabled: true, signedIn: false };
}

function redirectUri() {
  return `${location.origin}/displays/beds`;
}

/** Goes to the issuer to sign in; back here afterwards, to the same view. */
export async function signIn() {
  if (!crypto.subtle) throw new Error('insecure');
  const verifier = randomText(32);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  const pending = { verifier, state: randomText(16), nonce: randomText(16), back: location.search };
  save(PENDING, pending);
  const url = new URL(state.config.authorizationEndpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: state.config.clientId,
    redirect_uri: redirectUri(),
    scope: state.config.scope,
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: b64url(new Uint8Array(digest)),
    code_challenge_method: 'S256',
    ui_locales: language(),
  }).toString();
  location.assign(url.toString());
}

async function finishSignIn(params) {
  const pending = load(PENDING);
  save(PENDING, null);
  const back = pending?.back ?? '';
  history.replaceState(null, '', `${location.pathname}${back}`);
  if (!pending || params.get('state') !== pending.state) return { enabled: true, signedIn: false, error: 'state' };
  if (params.has('error')) return { enabled: true, signedIn: false, error: 'refused' };
  let r;
  try {
    r = await tokenRequest({
      grant_type: 'authorization_code',
      code: params.get('code'),
      redirect_uri: redirectUri(),
      client_id: state.config.clientId,
      code_verifier: pending.verifier,
    });
  } catch {
    return { enabled: true, signedIn: false, error: 'unreachable' };
  }
  const id = r.body?.id_token ? claimsOf(r.body.id_token) : null;
  const audience = Array.isArray(id?.aud) ? id.aud : [id?.aud];
  const good =
    r.ok &&
    r.body?.access_token &&
    id &&
    id.iss === state.config.issuer &&
    audience.includes(state.config.clientId) &&
    id.nonce === pending.nonce &&
    id.exp * 1000 > Date.now();
  if (!good) return { enabled: true, signedIn: false, error: 'refused' };
  state.session = null;
  keep(r.body, { idToken: r.body.id_token, sub: id.sub, name: id.name ?? id.preferred_username ?? id.sub });
  return { enabled: true, signedIn: true };
}

/** Signs out here and at the issuer (its end-session endpoint, when it has one). */
export function signOut() {
  const session = state.session;
  state.session = null;
  save(SESSION, null);
  clearTimeout(state.timer);
  const end = state.config?.endSessionEndpoint;
  if (!end) {
    location.assign(`${location.pathname}${location.search}`);
    return;
  }
  const url = new URL(end);
  url.search = new URLSearchParams({
    client_id: state.config.clientId,
    post_logout_redirect_uri: redirectUri(),
    ...(session?.idToken ? { id_token_hint: session.idToken } : {}),
  }).toString();
  location.assign(url.toString());
}
