// The server's API: fetch() with the key, its error bodies, and the reader of streamed replies
// (Server-Sent Events from a POST).

import { t } from './i18n.js';
import { askForKey, storedKey } from './key.js';

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function headers(extra = {}) {
  const key = storedKey();
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

async function failure(res) {
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json();
    if (body && body.error && body.error.message) message = body.error.message;
  } catch { /* not JSON: keep the status line */ }
  if (res.status === 401) askForKey(message);
  return new ApiError(res.status, message);
}

// fetch() with the key; a JSON body when `json` is given; throws ApiError on an HTTP error.
export async function request(path, { method = 'GET', json, body, type, signal } = {}) {
  const extra = json !== undefined ? { 'Content-Type': 'application/json' } : type ? { 'Content-Type': type } : {};
  const payload = json !== undefined ? JSON.stringify(json) : body;
  const res = await fetch(path, { method, headers: headers(extra), body: payload, signal });
  if (!res.ok) throw await failure(res);
  return res;
}

export async function api(path, options) {
  const res = await request(path, options);
  return res.status === 204 ? null : res.json();
}

export const query = (params) => `?${new URLSearchParams(params)}`;

// Reads `data:` lines and calls onText with each piece of content. Resolves on [DONE]; throws
// the server's error event, or when the stream ends without [DONE].
export async function readEvents(res, onText) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    const lines = buffer.split('\n');
    buffer = lines.pop();
    for (const line of lines) {
      if (handleEvent(line, onText)) return;
    }
  }
  throw new Error(t('The reply ended before it was complete.'));
}

function handleEvent(line, onText) {
  if (!line.startsWith('data:')) return false;
  const data = line.slice(5).trim();
  if (data === '[DONE]') return true;
  const event = JSON.parse(data);
  if (event.error) throw new ApiError(0, event.error.message || 'the server failed');
  const piece = event.choices && event.choices[0] && event.choices[0].delta.content;
  if (piece) onText(piece);
  return false;
}
