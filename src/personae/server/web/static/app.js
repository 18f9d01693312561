// personae web chat: characters, chats, streamed replies, memories and card import.
// Plain ES modules, no framework, no build step; talks only to this server's /api and /v1.
// This one starts the page and wires its controls; the others, by concern:
//   i18n.js     the page's words in English or Korean
//   page.js     element helpers, the notice line, the sidebar
//   state.js    what the page has loaded and chosen
//   key.js      the API key and the dialog that asks for it
//   api.js      fetch() with the key, error bodies, streamed replies (SSE)
//   messages.js a chat's messages on the page
//   chat.js     the chat list, sending and streaming, message actions, the message box
//   memory.js   the memory panel
//   cards.js    the character list, avatars, card import (file picker and drag and drop)
//   lorebooks.js a World Info file imported (picked or dropped) and attached to the character

import { forgetAvatars, importCard, loadCharacters, selectCharacter, watchDrops } from './cards.js';
import { MESSAGE_ACTIONS, newChat, openChat, stopReply, watchComposer } from './chat.js';
import { translatePage } from './i18n.js';
import { askForKey, keepTypedKey, removeKey } from './key.js';
import { MEMORY_ACTIONS, addMemory, toggleMemory } from './memory.js';
import { $, showError, toggleSidebar } from './page.js';

async function saveKey(event) {
  event.preventDefault();
  if (keepTypedKey()) await start();
}

function forgetKey() {
  removeKey();
  start().catch(showError);
}

function delegate(container, selector, handler) {
  $(container).addEventListener('click', (event) => {
    const target = event.target.closest(selector);
    if (target && $(container).contains(target)) Promise.resolve(handler(target)).catch(showError);
  });
}

function wire() {
  delegate('characters', 'button.character', (el) => selectCharacter(el.dataset.id));
  delegate('chats', 'button.chat-item', (el) => openChat(Number(el.dataset.id)));
  delegate('messages', 'button[data-action]', (el) => MESSAGE_ACTIONS[el.dataset.action](el.closest('.msg')));
  delegate('memory-panel', 'button[data-action]', (el) => MEMORY_ACTIONS[el.dataset.action](el.closest('.memory')));
  $('new-chat').addEventListener('click', () => newChat().catch(showError));
  $('stop').addEventListener('click', stopReply);
  $('toggle-memory').addEventListener('click', () => toggleMemory().catch(showError));
  $('close-memory').addEventListener('click', () => toggleMemory(false));
  $('memory-form').addEventListener('submit', (event) => addMemory(event).catch(showError));
  $('toggle-sidebar').addEventListener('click', () => toggleSidebar(!$('sidebar').classList.contains('open')));
  $('import-file').addEventListener('change', (event) => {
    importCard(event.target.files[0]).catch(showError).finally(() => { event.target.value = ''; });
  });
  $('open-key').addEventListener('click', () => askForKey(''));
  $('key-form').addEventListener('submit', (event) => saveKey(event).catch(showError));
  $('key-cancel').addEventListener('click', () => $('key-dialog').close());
  $('key-clear').addEventListener('click', forgetKey);
  $('notice-close').addEventListener('click', () => { $('notice').hidden = true; });
  watchComposer();
  watchDrops();
}

async function start() {
  forgetAvatars();
  try {
    await loadCharacters();
  } catch (err) {
    if (err.status !== 401) showError(err); // a 401 has opened the key form already
  }
}

translatePage();
wire();
start();
