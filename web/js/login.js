import { h, put } from './dom.js';
import * as api from './api.js';
import { field, form } from './forms.js';

export function login(view) {
  const notice = sessionStorage.getItem('groupwork.notice');
  sessionStorage.removeItem('groupwork.notice');
  const f = form({
    label: 'Sign in',
    submit: 'Sign in',
    fields: [
      field({ name: 'email', label: 'Email', type: 'email', required: true, autocomplete: 'username' }),
      field({ name: 'password', label: 'Password', type: 'password', required: true, autocomplete: 'current-password' }),
    ],
  }, async (v) => {
    try {
      await api.login(v.email || '', v.password || '');
    } catch (e) {
      if (e.status === 401) e.message = 'That email and password do not match an active account.';
      if (e.status === 429) e.message = 'Too many attempts. Please wait a few minutes and try again.';
      throw e;
    }
  });
  put(view, h('section', { class: 'signin card' },
    h('h1', {}, 'Sign in to groupwork'),
    notice ? h('p', { class: 'notice', role: 'status' }, notice) : null,
    f));
}
