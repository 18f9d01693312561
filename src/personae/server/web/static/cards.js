// Characters: the list with avatars, picking one (remembered across visits), and importing a
// card from the file picker or dropped on the page (a World Info file goes to lorebooks.js).

import { api, request } from './api.js';
import { loadChats, openChat, showGreeting } from './chat.js';
import { setLangOf, t } from './i18n.js';
import { importLorebook, readWorldInfo } from './lorebooks.js';
import { loadMemory } from './memory.js';
import { $, closeSidebarIfNarrow, h, isNarrow, notify, showError, toggleSidebar } from './page.js';
import { state } from './state.js';

const CHARACTER_STORE = 'personae.character';

export async function loadCharacters() {
  const { data } = await api('/api/characters');
  state.characters = data;
  renderCharacters();
  $('characters-empty').hidden = data.length > 0;
  const wanted = state.character ? state.character.id : localStorage.getItem(CHARACTER_STORE);
  const pick = data.find((c) => c.id === wanted);
  if (pick) await selectCharacter(pick.id);
  else if (isNarrow()) toggleSidebar(true); // on a phone: show the list
}

function renderCharacters() {
  const list = $('characters');
  list.replaceChildren(...state.characters.map((c) => {
    const selected = state.character && state.character.id === c.id;
    const info = h('span', { class: 'who' },
      h('strong', { text: c.name }),
      h('span', { class: 'desc', text: c.description || '' }));
    setLangOf(info, `${c.name} ${c.description || ''}`);
    const pick = h('button', { type: 'button', class: 'character', 'data-id': c.id, 'aria-pressed': String(selected) },
      avatar(c), info);
    return h('li', {}, pick);
  }));
}

// An <img> cannot send the key, so the avatar is fetched with it and shown from a blob URL
// (fetched once per character; the initial letter stays when there is none).
function avatar(character) {
  const initial = h('span', { class: 'avatar initial', 'aria-hidden': 'true', text: (character.name || '?').trim().charAt(0).toUpperCase() });
  if (!character.avatar_url) return initial;
  if (!state.avatars.has(character.id)) {
    state.avatars.set(character.id, request(character.avatar_url)
      .then((res) => res.blob())
      .then((blob) => URL.createObjectURL(blob))
      .catch(() => null));
  }
  const slot = h('span', { class: 'avatar-slot' }, initial);
  state.avatars.get(character.id).then((url) => {
    if (url) slot.replaceChildren(h('img', { class: 'avatar', alt: '', width: 40, height: 40, src: url }));
  });
  return slot;
}

export function forgetAvatars() {
  for (const pending of state.avatars.values()) pending.then((url) => url && URL.revokeObjectURL(url));
  state.avatars.clear();
}

export async function selectCharacter(id) {
  const character = state.characters.find((c) => c.id === id);
  if (!character) return;
  state.character = character;
  state.chat = null;
  localStorage.setItem(CHARACTER_STORE, id);
  renderCharacters();
  $('new-chat').disabled = false;
  $('input').disabled = false;
  $('send').disabled = false;
  closeSidebarIfNarrow();
  await loadChats();
  if (state.chats.length) await openChat(state.chats[0].id);
  else showGreeting();
  if (!$('memory-panel').hidden) await loadMemory();
}

// -- importing a card ----------------------------------------------------------------------------

function cardType(file) {
  const name = file.name.toLowerCase();
  if (file.type === 'image/png' || name.endsWith('.png')) return 'image/png';
  if (file.type === 'application/json' || name.endsWith('.json')) return 'application/json';
  return 'application/octet-stream';
}

export async function importCard(file) {
  if (!file) return;
  const world = await readWorldInfo(file);
  if (world) {
    await importLorebook(file, world);
    return;
  }
  const detail = await api('/api/characters', { method: 'POST', body: file, type: cardType(file) });
  notify(`${t('Imported')} ${detail.name}`);
  await loadCharacters();
  await selectCharacter(detail.id);
}

function hasFiles(event) {
  return event.dataTransfer && Array.from(event.dataTransfer.types || []).includes('Files');
}

export function watchDrops() {
  const zone = $('drop-zone');
  document.addEventListener('dragover', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    zone.hidden = false;
  });
  document.addEventListener('dragleave', (event) => {
    if (!event.relatedTarget) zone.hidden = true; // left the window
  });
  document.addEventListener('drop', (event) => {
    if (!event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    zone.hidden = true;
    importCard(event.dataTransfer.files[0]).catch(showError);
  });
}
