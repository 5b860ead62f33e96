// A real OIDC issuer for the core's authentication tests (services/core/tests/auth*.rs):
// oauth2-mock-server on 127.0.0.1 and a free port, with discovery, JWKS and a token
// endpoint. It prints {"url": …} once listening, then answers one JSON command per
// line on stdin with one JSON line on stdout:
//   {"op":"token","claims":{…},"header":{…},"kid":"k1","expiresIn":300}
//       a token signed by key kid, its payload's claims set (null deletes one)
//   {"op":"addKey","kid":"k2","alg":"RS256"}   a new signing key, published in the JWKS
//   {"op":"client","id":"adt","secret":"s","claims":{…},"expiresIn":3}
//       registers (or changes) a client of the client-credentials grant
//       (adapters/kit/tests/auth_*.rs): its secret, checked whether sent as HTTP Basic
//       or in the form (the mock itself checks none), the claims its tokens carry
//       (also client_id and sub = id) and their lifetime. An unregistered client, or a
//       wrong secret, is answered 401 invalid_client.
//   {"op":"grants"}   every client-credentials request so far: client, method, granted
// It exits when stdin closes (the test ended).
import { createInterface } from 'node:readline';
import { OAuth2Server } from 'oauth2-mock-server';

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256', { kid: 'k1' });
await server.start(0, '127.0.0.1');
process.stdout.write(JSON.stringify({ url: server.issuer.url }) + '\n');

const clients = new Map();
const grants = [];

// Who asks for a client-credentials token, and how it authenticates (RFC 6749 §2.3.1).
function caller(req) {
  const body = req.body ?? {};
  const header = req.headers.authorization ?? '';
  if (header.startsWith('Basic ')) {
    const pair = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const at = pair.indexOf(':');
    const decode = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: decode(pair.slice(0, at)), secret: decode(pair.slice(at + 1)), method: 'client_secret_basic' };
  }
  if (body.client_secret !== undefined) {
    return { id: body.client_id, secret: body.client_secret, method: 'client_secret_post' };
  }
  return { id: body.client_id, secret: undefined, method: 'none' };
}

server.service.on('beforeTokenSigning', (token, req) => {
  if (req.body?.grant_type !== 'client_credentials') return;
  const who = caller(req);
  const client = clients.get(who.id);
  if (client === undefined) return;
  Object.assign(token.payload, client.claims, { client_id: who.id, sub: who.id });
  if (client.expiresIn !== undefined) token.payload.exp = token.payload.iat + client.expiresIn;
});

server.service.on('beforeResponse', (response, req) => {
  if (req.body?.grant_type !== 'client_credentials') return;
  const who = caller(req);
  const client = clients.get(who.id);
  const granted = client !== undefined && who.secret === client.secret;
  grants.push({ client: who.id ?? null, method: who.method, scope: req.body.scope ?? null, granted });
  if (!granted) {
    response.statusCode = 401;
    response.body = { error: 'invalid_client' };
  } else if (client.expiresIn !== undefined) {
    response.body.expires_in = client.expiresIn;
  }
});

async function answer(command) {
  switch (command.op) {
    case 'token': {
      const token = await server.issuer.buildToken({
        kid: command.kid ?? 'k1',
        expiresIn: command.expiresIn ?? 300,
        scopesOrTransform: (header, payload) => {
          for (const [k, v] of Object.entries(command.header ?? {})) header[k] = v;
          for (const [k, v] of Object.entries(command.claims ?? {})) {
            if (v === null) delete payload[k];
            else payload[k] = v;
          }
        },
      });
      return { token };
    }
    case 'addKey': {
      const key = await server.issuer.keys.generate(command.alg ?? 'RS256', { kid: command.kid });
      return { kid: key.kid };
    }
    case 'client': {
      clients.set(command.id, { secret: command.secret, claims: command.claims ?? {}, expiresIn: command.expiresIn });
      return { id: command.id };
    }
    case 'grants':
      return { grants };
    default:
      return { error: `unknown op ${command.op}` };
  }
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  let reply;
  try {
    reply = await answer(JSON.parse(line));
  } catch (e) {
    reply = { error: String(e) };
  }
  process.stdout.write(JSON.stringify(reply) + '\n');
}
await server.stop();
