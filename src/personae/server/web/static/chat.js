// Chatting with the selected character: the chat list, sending and streaming replies, stopping,
// regenerating, editing and deleting messages, and the message box (Enter sends, IME-safe).

import { api, query, readEvents, request } from './api.js';
import { LANG, t } from './i18n.js';
import { appendMessage, fillText, renderMessages, scrollToEnd } from './messages.js';
import { $, button, closeSidebarIfNarrow, h, notify, showError } from './page.js';
import { state } from './state.js';

// -- the chat list -------------------------------------------------------------------------------

export async function loadChats() {
  const { data } = await api(`/api/chats${query({ character: state.character.id })}`);
  state.chats = data;
  renderChats();
}

function chatLabel(chat) {
  return chat.title || `${t('Chat')} ${chat.id}`;
}

const countOf = (n) => (LANG === 'ko' ? `메시지 ${n}개` : `${n} message${n === 1 ? '' : 's'}`);

function renderChats() {
  const list = $('chats');
  if (!state.chats.length) {
    list.replaceChildren(h('li', { class: 'hint', text: t('No chats yet: send a message to start one.') }));
    return;
  }
  list.replaceChildren(...state.chats.map((chat) => {
    const current = state.chat && state.chat.id === chat.id;
    const when = new Date(chat.updated_at * 1000).toLocaleString(LANG, { dateStyle: 'medium', timeStyle: 'short' });
    const item = h('button', { type: 'button', class: 'chat-item', 'data-id': String(chat.id), 'aria-current': String(current) },
      h('span', { text: chatLabel(chat) }),
      h('small', { text: `${when} · ${countOf(chat.message_count)}` }));
    return h('li', {}, item);
  }));
}

export async function openChat(id) {
  showChat(await api(`/api/chats/${id}`));
  closeSidebarIfNarrow();
}

export async function newChat() {
  const chat = await api('/api/chats', { method: 'POST', json: { character: state.character.id } });
  showChat(chat);
  await loadChats();
  return chat;
}

function showChat(chat) {
  state.chat = chat;
  $('chat-title').textContent = state.character ? state.character.name : chatLabel(chat);
  $('chat-subtitle').textContent = chatLabel(chat);
  renderMessages(chat.messages);
  renderChats();
}

export function showGreeting() {
  const c = state.character;
  $('chat-title').textContent = c.name;
  $('chat-subtitle').textContent = t('No chats yet: send a message to start one.');
  const greeting = c.first_message ? [{ id: null, role: 'assistant', content: c.first_message, status: 'greeting' }] : [];
  renderMessages(greeting);
  renderChats();
}

// -- streamed replies ----------------------------------------------------------------------------

// What an empty reply says while it is being made: nothing for a single reply (the cursor
// blinks), a "choosing" line while a best-of-n reply's candidates are written and compared
// (nothing is shown until one is chosen), a "revising" one for refine.
function waitingText() {
  const reply = state.character && state.character.reply;
  if (!reply || reply.strategy === 'single') return '';
  if (reply.strategy === 'refine') return t('Writing and revising…');
  return LANG === 'ko' ? `답 ${reply.n}개 중에서 고르는 중…` : `Choosing among ${reply.n} replies…`;
}

// POSTs `payload` to `path` and streams the reply's text into the message view `view`.
async function streamInto(view, path, payload) {
  const controller = new AbortController();
  state.controller = controller;
  setBusy(true);
  view.querySelector('.text').dataset.waiting = waitingText();
  view.classList.add('streaming');
  let text = '';
  try {
    const res = await request(path, { method: 'POST', json: payload, signal: controller.signal });
    await readEvents(res, (piece) => {
      text += piece;
      fillText(view.querySelector('.text'), text);
      scrollToEnd();
    });
  } catch (err) {
    if (err.name === 'AbortError') notify(t('Stopped.'));
    else throw err;
  } finally {
    view.classList.remove('streaming');
    state.controller = null;
    setBusy(false);
    await settle(controller.signal.aborted ? text.length : 0);
  }
}

// After a reply: reload the chat for message ids and statuses. After a Stop the server writes
// the partial reply as its job winds down, so wait (briefly) until it has at least `shown` chars.
async function settle(shown) {
  if (!state.chat) return;
  const id = state.chat.id;
  for (let tries = 0; tries < 10; tries += 1) {
    const chat = await api(`/api/chats/${id}`).catch(() => null);
    const last = chat && chat.messages[chat.messages.length - 1];
    if (chat && (!shown || (last && last.role === 'assistant' && last.content.length >= shown) || tries === 9)) {
      if (state.chat && state.chat.id === id) showChat(chat);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function setBusy(busy) {
  $('send').hidden = busy;
  $('stop').hidden = !busy;
  $('messages').setAttribute('aria-busy', String(busy));
  for (const el of document.querySelectorAll('#messages button')) el.disabled = busy;
  if (!busy) $('send').disabled = !state.character;
}

export function stopReply() {
  if (state.controller) state.controller.abort();
}

// -- sending, regenerating, editing, deleting ----------------------------------------------------

async function send() {
  const input = $('input');
  const text = input.value.trim();
  if (!text || state.controller || !state.character) return;
  input.value = '';
  try {
    const chat = state.chat || await newChat();
    appendMessage({ role: 'user', content: text });
    const reply = appendMessage({ role: 'assistant', content: '' });
    await streamInto(reply, '/v1/chat/completions', {
      model: state.character.id,
      chat_id: chat.id,
      messages: [{ role: 'user', content: text }],
      stream: true,
    });
    await loadChats();
  } catch (err) {
    if (err.status > 0 && !input.value) input.value = text; // refused: give the words back
    showError(err);
    await settle(0);
  }
}

async function regenerate(view) {
  if (!state.chat || state.controller) return;
  fillText(view.querySelector('.text'), '');
  view.querySelector('.badge')?.remove();
  view.querySelector('.actions')?.remove();
  try {
    await streamInto(view, `/api/chats/${state.chat.id}/regenerate`, { stream: true });
  } catch (err) {
    showError(err);
    await settle(0);
  }
}

function startEdit(view) {
  const id = Number(view.dataset.id);
  const message = state.chat.messages.find((m) => m.id === id);
  if (!message || view.querySelector('.editor')) return;
  const box = h('textarea', { class: 'editor', value: message.content, rows: 4, 'aria-label': t('Edit') });
  const form = h('div', { class: 'edit-form' }, box,
    h('div', { class: 'row end' }, button('Cancel', 'cancel-edit'), button('Save', 'save-edit', { class: 'primary' })));
  view.querySelector('.text').hidden = true;
  view.querySelector('.actions').hidden = true;
  view.append(form);
  box.focus();
}

async function saveEdit(view) {
  const content = view.querySelector('.editor').value;
  const message = await api(`/api/messages/${view.dataset.id}`, { method: 'PATCH', json: { content } });
  const stored = state.chat.messages.find((m) => m.id === message.id);
  if (stored) Object.assign(stored, message);
  renderMessages(state.chat.messages);
}

async function deleteMessage(view) {
  if (!window.confirm(t('Delete this message?'))) return;
  const id = Number(view.dataset.id);
  await api(`/api/messages/${id}`, { method: 'DELETE' });
  state.chat.messages = state.chat.messages.filter((m) => m.id !== id);
  renderMessages(state.chat.messages);
}

// What each button on a message does (by its data-action), given the message's view.
export const MESSAGE_ACTIONS = {
  edit: startEdit,
  'cancel-edit': () => renderMessages(state.chat.messages),
  'save-edit': saveEdit,
  delete: deleteMessage,
  regenerate,
};

// -- the message box: Enter sends, Shift+Enter is a new line, never mid-composition --------------

export function watchComposer() {
  const input = $('input');
  input.addEventListener('compositionstart', () => { state.composing = true; });
  input.addEventListener('compositionend', () => {
    // Some browsers send the Enter that ends a composition after compositionend: keep the
    // flag until that key event has been seen.
    setTimeout(() => { state.composing = false; }, 0);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || event.shiftKey) return;
    if (event.isComposing || event.keyCode === 229 || state.composing) return;
    event.preventDefault();
    send();
  });
  $('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    send();
  });
}
