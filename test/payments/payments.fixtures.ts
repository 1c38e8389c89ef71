// Named fixtures and small HTTP helpers for the payment e2e suites (auth, transaction, psp).
import { createHmac } from 'node:crypto';
import { request } from 'node:http';

/** How the waits here poll: each look costs a request. */
export const POLL = { limitMs: 15_000, everyMs: 100 };

export const secrets = {
  jwt: 'e2e-jwt-secret-0123456789abcdef-0123456789',
  foreign: 'another-secret-0123456789abcdef-0123456789',
};

export const users = {
  alice: { username: 'alice', password: 'password', id: 1 },
  becky: { username: 'becky', password: 'password', id: 2 },
  charlie: { username: 'charlie', password: 'password', id: 3 },
};

/** A password distinctive enough to search every log line for. */
export const wrongPassword = 'hunter2-Zx9-never-log-me';

export const PSP_LINE = '==> Making transaction with PSP: User ID: 1, Amount: 100, Currency: USD';

export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

export async function tokenOf(
  authUrl: string,
  user: { username: string; password: string },
): Promise<string> {
  const res = await post(`${authUrl}/auth/token`, { username: user.username, password: user.password });
  if (res.status !== 200) throw new Error(`login of ${user.username} answered ${res.status}`);
  return res.body.token as string;
}

/** POST from a chosen loopback source address (the rate limit counts per client address). */
export function postFrom(
  localAddress: string,
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(
      url,
      {
        method: 'POST',
        localAddress,
        headers: { 'content-type': 'application/json', 'content-length': data.length, ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(text),
            headers: new Headers(res.headers as Record<string, string>),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** An HS256 JWT made here, to forge expired, tampered or foreign tokens. */
export function signToken(claims: Record<string, unknown>, secret: string, alg = 'HS256'): string {
  const head = `${b64({ alg, typ: 'JWT' })}.${b64(claims)}`;
  const hash = alg === 'HS512' ? 'sha512' : 'sha256';
  return `${head}.${createHmac(hash, secret).update(head).digest('base64url')}`;
}

export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}
