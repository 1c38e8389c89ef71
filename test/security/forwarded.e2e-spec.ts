// X-Forwarded-For is believed only from the real proxy, with the values the deployment files ship: compose's
// pinned gateway address and the Kubernetes default. A peer anywhere else (another container on the compose network,
// any pod) that names its own client address is counted as itself.
import Fastify from 'fastify';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadComposeFile } from '../../docker/compose-local/compose-file.js';
import { ipList } from '../../src/platform/config/parsers.js';
import { fastifyOptions } from '../../src/platform/http/http-edge.js';
import { composeEnvForTests, repoRoot } from '../deploy/deploy-files.util.js';

const SPOOFED = '203.0.113.7';

/** request.ip as the platform's HTTP edge decides it, for a peer at `remoteAddress` claiming SPOOFED. */
async function clientAddress(trustedProxies: string, remoteAddress: string): Promise<string> {
  const app = Fastify(fastifyOptions(1_048_576, ipList()(trustedProxies)));
  app.get('/ip', (req) => ({ ip: req.ip }));
  try {
    const res = await app.inject({ url: '/ip', remoteAddress, headers: { 'x-forwarded-for': SPOOFED } });
    return res.json().ip as string;
  } finally {
    await app.close();
  }
}

describe('forwarded client addresses with the shipped settings', () => {
  describe('docker-compose.yml', () => {
    const compose = loadComposeFile(join(repoRoot, 'docker-compose.yml'), composeEnvForTests);
    const trusted = compose.services.auth.environment!.TRUSTED_PROXIES;
    const gateway = (compose.services.gateway.networks as Record<string, { ipv4_address?: string }>).polyrole
      .ipv4_address!;
    const neighbour = gateway.replace(/\d+$/, (last) => String((Number(last) + 3) % 250));

    it('takes the client the gateway names', async () => {
      expect(await clientAddress(trusted, gateway)).toBe(SPOOFED);
    });

    it('ignores the X-Forwarded-For of any other container on the network, or of loopback', async () => {
      expect(await clientAddress(trusted, neighbour)).toBe(neighbour);
      expect(await clientAddress(trusted, '127.0.0.1')).toBe('127.0.0.1');
    });
  });

  describe('k8s/auth.yaml', () => {
    const docs = parseAllDocuments(readFileSync(join(repoRoot, 'k8s', 'auth.yaml'), 'utf8')).map((d) =>
      d.toJS(),
    );
    const auth = docs.find((d) => d?.kind === 'Deployment').spec.template.spec.containers[0];
    const trusted = String(auth.env.find((e: { name: string }) => e.name === 'TRUSTED_PROXIES').value);

    it('ignores the X-Forwarded-For of every pod until the ingress controller is named', async () => {
      for (const pod of ['10.244.1.17', '172.17.0.5', '192.168.3.4'])
        expect(await clientAddress(trusted, pod)).toBe(pod);
    });
  });
});
