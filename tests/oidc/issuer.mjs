// A real OIDC issuer for the core's authentication tests (services/core/tests/auth*.rs):
// oauth2-mock-server on 127.0.0.1 and a free port, with discovery, JWKS and a token
// endpoint. It prints {"url": …} once listening, then answers one JSON command per
// line on stdin with one JSON line on stdout:
//   {"op":"token","claims":{…},"header":{…},"kid":"k1","expiresIn":300}
//       a token signed by key kid, its payload's claims set (null deletes one)
//   {"op":"addKey","kid":"k2","alg":"RS256"}   a new signing key, published in the JWKS
// It exits when stdin closes (the test ended).
import { createInterface } from 'node:readline';
import { OAuth2Server } from 'oauth2-mock-server';

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256', { kid: 'k1' });
await server.start(0, '127.0.0.1');
process.stdout.write(JSON.stringify({ url: server.issuer.url }) + '\n');

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
