// Lorebooks: a SillyTavern World Info file, dropped on the page or picked like a card, is
// imported as a lorebook and attached to the selected character, so every chat you have with
// that character (this one and later ones) scans it with the card's own lorebook.

import { api, query } from './api.js';
import { t } from './i18n.js';
import { notify } from './page.js';
import { state } from './state.js';

const MAX_SNIFF_BYTES = 10 * 1024 * 1024; // larger: not read here; the server's answer says why

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

// A world keeps its entries at the top level (keyed by uid, or a list); a card keeps them
// inside data.character_book. The server decides the same way.
export function isWorldInfo(json) {
  if (Array.isArray(json)) return json.length > 0 && json.every(isObject);
  if (!isObject(json) || 'spec' in json || 'data' in json || 'first_mes' in json) return false;
  return json.entries !== null && typeof json.entries === 'object';
}

// The parsed file when it is a World Info JSON file, else null (a card, or not JSON at all).
export async function readWorldInfo(file) {
  const json = file.type === 'application/json' || file.name.toLowerCase().endsWith('.json');
  if (!json || file.size > MAX_SNIFF_BYTES) return null;
  try {
    const parsed = JSON.parse(await file.text());
    return isWorldInfo(parsed) ? parsed : null;
  } catch {
    return null; // not JSON: the card import reports what is wrong with it
  }
}

export async function importLorebook(file, world) {
  const stem = file.name.replace(/\.json$/i, '');
  const named = isObject(world) && typeof world.name === 'string' && world.name.trim();
  const path = `/api/lorebooks${query({ name: (named || stem || 'lorebook').slice(0, 200) })}`;
  const book = await api(path, { method: 'POST', body: file, type: 'application/json' });
  if (!state.character) {
    notify(`${t('Imported lorebook')} ${book.name}`);
    return book;
  }
  await api(`/api/lorebooks/${encodeURIComponent(book.id)}/attach`, {
    method: 'POST',
    json: { character: state.character.id },
  });
  notify(`${t('Imported lorebook')} ${book.name} → ${state.character.name}`);
  return book;
}
