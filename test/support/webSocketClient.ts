/**
 * A `ws` client for integration tests whose incoming text messages and close are awaitable, attached
 * before the handshake so nothing sent right after connect is missed. Test-only.
 */
import { once } from 'node:events';
import { type ClientOptions, WebSocket } from 'ws';
import { AsyncQueue } from './asyncQueue';

export interface TestWebSocket {
  readonly socket: WebSocket;
  readonly messages: AsyncQueue<string>;
  /** Errors the socket reported after the handshake. */
  readonly errors: AsyncQueue<Error>;
  /** Settles with the close code and reason once the socket is closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
}

export async function connectWebSocket(url: string, options?: ClientOptions): Promise<TestWebSocket> {
  const socket = new WebSocket(url, options);
  const messages = new AsyncQueue<string>('WebSocket message');
  const errors = new AsyncQueue<Error>('WebSocket error');
  socket.on('message', (data) => messages.push(String(data)));
  socket.on('error', (error) => errors.push(error));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }));
  });
  await once(socket, 'open');
  return { socket, messages, errors, closed };
}
