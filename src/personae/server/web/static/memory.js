// The memory panel: what the selected character knows about the user (the profile of facts) and
// the other memories, each editable and forgettable, and a form to add one.

import { api, query } from './api.js';
import { setLangOf, t } from './i18n.js';
import { $, button, h } from './page.js';
import { state } from './state.js';

export async function loadMemory() {
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

export async function addMemory(event) {
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

// What each button on a memory does (by its data-action), given the memory's list item.
export const MEMORY_ACTIONS = {
  'edit-memory': editMemory,
  'save-memory': saveMemory,
  'forget-memory': forgetMemory,
  'reload-memory': () => loadMemory(),
};

export async function toggleMemory(open = $('memory-panel').hidden) {
  $('memory-panel').hidden = !open;
  $('toggle-memory').setAttribute('aria-expanded', String(open));
  if (open) await loadMemory();
}
