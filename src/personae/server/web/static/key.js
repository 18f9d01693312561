// The API key: kept in localStorage, sent with every request (api.js), and asked for in a dialog
// when the server answers 401.

import { t } from './i18n.js';
import { $ } from './page.js';

const KEY_STORE = 'personae.apiKey';

export const storedKey = () => localStorage.getItem(KEY_STORE);

export function askForKey(message) {
  const dialog = $('key-dialog');
  $('key-message').textContent = message || t('This server needs an API key.');
  if (!dialog.open) dialog.showModal();
  $('key-input').focus();
}

// Keeps the key typed into the dialog and closes it; false (the dialog stays) when none was typed.
export function keepTypedKey() {
  const key = $('key-input').value.trim();
  if (!key) return false;
  localStorage.setItem(KEY_STORE, key);
  $('key-input').value = '';
  $('key-dialog').close();
  return true;
}

export function removeKey() {
  localStorage.removeItem(KEY_STORE);
  $('key-dialog').close();
}
