// Helpers for the whole page: finding and making elements, the notice line and the sidebar.

import { t } from './i18n.js';

const NARROW = '(max-width: 800px)'; // as in app.css

export const $ = (id) => document.getElementById(id);

export function h(tag, props = {}, ...children) {
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

export const button = (label, action, extra = {}) => h('button', { type: 'button', text: t(label), 'data-action': action, ...extra });

let noticeTimer = 0;
export function notify(message, { error = false } = {}) {
  const box = $('notice');
  clearTimeout(noticeTimer);
  $('notice-text').textContent = message;
  box.classList.toggle('error', error);
  box.setAttribute('role', error ? 'alert' : 'status');
  box.hidden = false;
  if (!error) noticeTimer = setTimeout(() => { box.hidden = true; }, 4000);
}
export const showError = (err) => notify(err.message || String(err), { error: true });

// On a phone the sidebar (characters and chats) slides over the chat.
export const isNarrow = () => window.matchMedia(NARROW).matches;

export function toggleSidebar(open) {
  $('sidebar').classList.toggle('open', open);
  $('toggle-sidebar').setAttribute('aria-expanded', String(open));
}

export function closeSidebarIfNarrow() {
  if (isNarrow()) toggleSidebar(false);
}
