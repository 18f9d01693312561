// A chat's messages on the page: one view each, with its actions; role-play text drawn safely.

import { setLangOf, t } from './i18n.js';
import { $, button, h } from './page.js';
import { state } from './state.js';

export function renderMessages(messages) {
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
export function fillText(el, text) {
  const parts = text.split(/(\*[^*\n]+\*)/);
  el.replaceChildren(...parts.filter(Boolean).map((part) => (
    /^\*[^*\n]+\*$/.test(part) ? h('em', { text: part.slice(1, -1) }) : document.createTextNode(part))));
  setLangOf(el, text);
}

export function appendMessage(message) {
  const view = messageView(message, false);
  $('messages').append(view);
  scrollToEnd();
  return view;
}

export function scrollToEnd() {
  const box = $('messages');
  box.scrollTop = box.scrollHeight;
}
