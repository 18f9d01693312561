// personae web chat: characters, chats, streamed replies, memories and card import.
// Plain ES module, no framework, no build step; talks only to this server's /api and /v1.

const KEY_STORE = 'personae.apiKey';
const CHARACTER_STORE = 'personae.character';
const NARROW = '(max-width: 800px)'; // as in app.css
const $ = (id) => document.getElementById(id);

const state = {
  characters: [],
  character: null, // the selected character summary
  chats: [],
  chat: null, // the open chat (summary + messages)
  controller: null, // the AbortController of the reply being streamed
  composing: false, // an IME composition is under way in the message box
  avatars: new Map(), // character id -> Promise of its avatar's blob URL (or null)
};

// -- words: English by default, Korean when the browser (or ?lang=ko) asks for it ---------------

const KO = {
  'Characters': '캐릭터', 'Chats': '대화', 'New chat': '새 대화', 'Import card': '카드 가져오기',
  'Memory': '기억', 'API key': 'API 키', 'Key': '키', 'Save': '저장', 'Cancel': '취소',
  'Forget key': '키 지우기', 'Close': '닫기', 'Send': '보내기', 'Stop': '멈추기',
  'Edit': '고치기', 'Delete': '지우기', 'Regenerate': '다시 쓰기', 'Forget': '잊기',
  'Add': '추가', 'Add a memory': '기억 추가', 'Text': '내용', 'Kind': '종류', 'Label': '이름표',
  'note': '메모', 'fact': '사실', 'Memories': '저장된 기억', 'What they know about you': '나에 대한 정보',
  'Pick a character': '캐릭터를 고르세요', 'Your message': '메시지', 'You': '나',
  'Dismiss': '닫기', 'incomplete': '미완성', 'greeting': '첫인사', 'Nothing yet.': '아직 없어요.',
'No chats yet: send a message to start one.': '아직 대화가 없어요. 메시지를 보내면 시작돼요.',
  'Write a message (Enter sends, Shift+Enter for a new line)': '메시지를 쓰세요 (Enter 보내기, Shift+Enter 줄바꿈)',
  'Drop a character card to import it': '카드 파일을 놓으면 가져와요',
  'No characters yet: import a card (drop a .png, .json or .charx file here).':
    '캐릭터가 없어요. 카드(.png, .json, .charx)를 끌어다 놓으세요.',
  'Imported': '가져왔어요:', 'Stopped.': '멈췄어요.', 'Delete this message?': '이 메시지를 지울까요?',
  'The reply ended before it was complete.': '답이 끝나기 전에 끊겼어요.',
  'This server needs an API key.': '이 서버는 API 키가 필요해요.',
  'Characters and chats': '캐릭터와 대화', 'Chat': '대화',
};
const LANG = (new URLSearchParams(location.search).get('lang') || navigator.language || 'en')
  .toLowerCase().startsWith('ko') ? 'ko' : 'en';
const t = (text) => (LANG === 'ko' && KO[text]) || text;

function translatePage() {
  document.documentElement.lang = LANG;
  for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.textContent.trim());
  for (const el of document.querySelectorAll('[placeholder]')) el.placeholder = t(el.placeholder);
  for (const el of document.querySelectorAll('[aria-label]')) {
    el.setAttribute('aria-label', t(el.getAttribute('aria-label')));
  }
}

// Hangul in a text: mark it lang="ko" so line breaking and fonts suit it.
const HANGUL = /[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]/;
function setLangOf(el, text) {
  if (HANGUL.test(text)) el.lang = 'ko';
  else el.removeAttribute('lang');
}

// -- small DOM helpers -----------------------------------------------------------------------

function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === 'class') el.className = value;
    else if (name === 'text') el.textContent = value;
    else if (name.startsWith('data-') || name.startsWith('aria-')) el.setAttribute(name, value);
    else el[name] = value;
  }
  el.append(...children.filter((c) => c !== null && c !== undefined));
  return el;
}

const button = (label, action, extra = {}) => h('button', { type: 'button', text: t(label), 'data-action': action, ...extra });

let noticeTimer = 0;
function notify(message, { error = false } = {}) {
  const box = $('notice');
  clearTimeout(noticeTimer);
  $('notice-text').textContent = message;
  box.classList.toggle('error', error);
  box.setAttribute('role', error ? 'alert' : 'status');
  box.hidden = false;
  if (!error) noticeTimer = setTimeout(() => { box.hidden = true; }, 4000);
}
const showError = (err) => notify(err.message || String(err), { error: true });

// -- the API -----------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function headers(extra = {}) {
  const key = localStorage.getItem(KEY_STORE);
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
async function request(path, { method = 'GET', json, body, type, signal } = {}) {
  const extra = json !== undefined ? { 'Content-Type': 'application/json' } : type ? { 'Content-Type': type } : {};
  const payload = json !== undefined ? JSON.stringify(json) : body;
  const res = await fetch(path, { method, headers: headers(extra), body: payload, signal });
  if (!res.ok) throw await failure(res);
  return res;
}

async function api(path, options) {
  const res = await request(path, options);
  return res.status === 204 ? null : res.json();
}

const query = (params) => `?${new URLSearchParams(params)}`;

// -- streaming replies (Server-Sent Events from a POST) ---------------------------------------

// Reads `data:` lines and calls onText with each piece of content. Resolves on [DONE]; throws
// the server's error event, or when the stream ends without [DONE].
async function readEvents(res, onText) {
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

// POSTs `payload` to `path` and streams the reply's text into the message view `view`.
async function streamInto(view, path, payload) {
  const controller = new AbortController();
  state.controller = controller;
  setBusy(true);
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

// -- characters --------------------------------------------------------------------------------

async function loadCharacters() {
  const { data } = await api('/api/characters');
  state.characters = data;
  renderCharacters();
  $('characters-empty').hidden = data.length > 0;
  const wanted = state.character ? state.character.id : localStorage.getItem(CHARACTER_STORE);
  const pick = data.find((c) => c.id === wanted);
  if (pick) await selectCharacter(pick.id);
  else if (window.matchMedia(NARROW).matches) toggleSidebar(true); // on a phone: show the list
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

function forgetAvatars() {
  for (const pending of state.avatars.values()) pending.then((url) => url && URL.revokeObjectURL(url));
  state.avatars.clear();
}

async function selectCharacter(id) {
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

// -- chats ---------------------------------------------------------------------------------------

async function loadChats() {
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

async function openChat(id) {
  showChat(await api(`/api/chats/${id}`));
  closeSidebarIfNarrow();
}

async function newChat() {
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

function showGreeting() {
  const c = state.character;
  $('chat-title').textContent = c.name;
  $('chat-subtitle').textContent = t('No chats yet: send a message to start one.');
  const greeting = c.first_message ? [{ id: null, role: 'assistant', content: c.first_message, status: 'greeting' }] : [];
  renderMessages(greeting);
  renderChats();
}

// -- messages ------------------------------------------------------------------------------------

function renderMessages(messages) {
  const visible = messages.filter((m) => m.role !== 'system');
  const last = visible[visible.length - 1];
  const canRegenerate = (m) => m === last && m.role === 'assistant' && visible.length > 1;
  $('messages').replaceChildren(...visible.map((m) => messageView(m, canRegenerate(m))));
  scrollToEnd();
}

function messageView(message, canRegenerate) {
  const mine = message.role === 'user';
  const name = mine ? t('You') : (state.character ? state.character.name : '');
  const head = h('div', { class: 'msg-head' }, h('span', { class: 'name', text: name }));
  if (message.status === 'incomplete') head.append(h('span', { class: 'badge', text: t('incomplete') }));
  const view = h('article', { class: `msg ${mine ? 'user' : 'assistant'}`, 'data-id': message.id == null ? '' : String(message.id) },
    head, h('div', { class: 'text' }));
  fillText(view.querySelector('.text'), message.content);
  if (message.id != null) {
    const actions = h('div', { class: 'actions' }, button('Edit', 'edit'), button('Delete', 'delete'));
    if (canRegenerate) actions.append(button('Regenerate', 'regenerate'));
    view.append(actions);
  }
  return view;
}

// Role-play text, safely: *actions* in italics, everything else as plain text (never HTML).
function fillText(el, text) {
  const parts = text.split(/(\*[^*\n]+\*)/);
  el.replaceChildren(...parts.filter(Boolean).map((part) => (
    /^\*[^*\n]+\*$/.test(part) ? h('em', { text: part.slice(1, -1) }) : document.createTextNode(part))));
  setLangOf(el, text);
}

function appendMessage(message) {
  const view = messageView(message, false);
  $('messages').append(view);
  scrollToEnd();
  return view;
}

function scrollToEnd() {
  const box = $('messages');
  box.scrollTop = box.scrollHeight;
}

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

const MESSAGE_ACTIONS = {
  edit: startEdit,
  'cancel-edit': () => renderMessages(state.chat.messages),
  'save-edit': saveEdit,
  delete: deleteMessage,
  regenerate,
};

// -- memory panel ------------------------------------------------------------------------------------

async function loadMemory() {
  if (!state.character) {
    $('profile').replaceChildren(h('li', { class: 'hint', text: t('Pick a character') }));
    $('memories').replaceChildren();
    return;
  }
  const params = query({ character: state.character.id });
  const [profile, memories] = await Promise.all([api(`/api/profile${params}`), api(`/api/memories${params}`)]);
  renderMemoryList($('profile'), profile.data);
  renderMemoryList($('memories'), memories.data.filter((m) => m.kind !== 'fact'));
}

function renderMemoryList(list, items) {
  if (!items.length) {
    list.replaceChildren(h('li', { class: 'hint', text: t('Nothing yet.') }));
    return;
  }
  list.replaceChildren(...items.map((m) => {
    const text = h('p', { class: 'memory-text', text: m.text });
    setLangOf(text, m.text);
    const meta = h('small', { text: [t(m.kind), m.label].filter(Boolean).join(' · ') });
    return h('li', { class: 'memory', 'data-id': String(m.id) }, text, meta,
      h('div', { class: 'actions' }, button('Edit', 'edit-memory'), button('Forget', 'forget-memory')));
  }));
}

function editMemory(item) {
  if (item.querySelector('.editor')) return;
  const box = h('textarea', { class: 'editor', value: item.querySelector('.memory-text').textContent, rows: 3, 'aria-label': t('Edit') });
  item.querySelector('.actions').replaceChildren(button('Cancel', 'reload-memory'), button('Save', 'save-memory', { class: 'primary' }));
  item.querySelector('.memory-text').replaceWith(box);
  box.focus();
}

async function saveMemory(item) {
  const text = item.querySelector('.editor').value;
  await api(`/api/memories/${item.dataset.id}`, { method: 'PATCH', json: { text } });
  await loadMemory();
}

async function forgetMemory(item) {
  await api(`/api/memories/${item.dataset.id}`, { method: 'DELETE' });
  await loadMemory();
}

async function addMemory(event) {
  event.preventDefault();
  const text = $('memory-text').value.trim();
  if (!text) return;
  const body = { text, kind: $('memory-kind').value };
  const label = $('memory-label').value.trim();
  if (label) body.label = label;
  if (state.character) body.character = state.character.id;
  await api('/api/memories', { method: 'POST', json: body });
  $('memory-text').value = '';
  $('memory-label').value = '';
  await loadMemory();
}

const MEMORY_ACTIONS = {
  'edit-memory': editMemory,
  'save-memory': saveMemory,
  'forget-memory': forgetMemory,
  'reload-memory': () => loadMemory(),
};

async function toggleMemory(open = $('memory-panel').hidden) {
  $('memory-panel').hidden = !open;
  $('toggle-memory').setAttribute('aria-expanded', String(open));
  if (open) await loadMemory();
}

// -- importing a card ------------------------------------------------------------------------------

function cardType(file) {
  const name = file.name.toLowerCase();
  if (file.type === 'image/png' || name.endsWith('.png')) return 'image/png';
  if (file.type === 'application/json' || name.endsWith('.json')) return 'application/json';
  return 'application/octet-stream';
}

async function importCard(file) {
  if (!file) return;
  const detail = await api('/api/characters', { method: 'POST', body: file, type: cardType(file) });
  notify(`${t('Imported')} ${detail.name}`);
  await loadCharacters();
  await selectCharacter(detail.id);
}

function hasFiles(event) {
  return event.dataTransfer && Array.from(event.dataTransfer.types || []).includes('Files');
}

function watchDrops() {
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

// -- the API key -----------------------------------------------------------------------------------

function askForKey(message) {
  const dialog = $('key-dialog');
  $('key-message').textContent = message || t('This server needs an API key.');
  if (!dialog.open) dialog.showModal();
  $('key-input').focus();
}

async function saveKey(event) {
  event.preventDefault();
  const key = $('key-input').value.trim();
  if (!key) return;
  localStorage.setItem(KEY_STORE, key);
  $('key-input').value = '';
  $('key-dialog').close();
  await start();
}

function forgetKey() {
  localStorage.removeItem(KEY_STORE);
  $('key-dialog').close();
  start().catch(showError);
}

// -- the message box: Enter sends, Shift+Enter is a new line, never mid-composition ----------------

function watchComposer() {
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

// -- wiring ------------------------------------------------------------------------------------------

function closeSidebarIfNarrow() {
  if (window.matchMedia(NARROW).matches) toggleSidebar(false);
}

function toggleSidebar(open) {
  $('sidebar').classList.toggle('open', open);
  $('toggle-sidebar').setAttribute('aria-expanded', String(open));
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
  $('stop').addEventListener('click', () => state.controller && state.controller.abort());
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
