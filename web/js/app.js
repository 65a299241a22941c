// The shell: sign-in state, navigation per role, and a hash router (#/path) whose screens are
// loaded on demand as ES modules.
import { h, put, announce } from './dom.js';
import * as api from './api.js';

const NAV = {
  therapist: [['#/', 'Home'], ['#/sessions', 'Sessions'], ['#/groups', 'Groups'], ['#/clients', 'Clients'], ['#/screenings', 'Screenings'], ['#/waitlist', 'Waitlist'], ['#/emergency', 'Emergency access']],
  supervisor: [['#/', 'Home'], ['#/cosign', 'Co-sign queue'], ['#/sessions', 'Sessions'], ['#/groups', 'Groups'], ['#/clients', 'Clients'], ['#/screenings', 'Screenings'], ['#/waitlist', 'Waitlist'], ['#/approvals', 'Approvals'], ['#/emergency', 'Access reviews'], ['#/reports', 'Reports']],
  intake: [['#/', 'Home'], ['#/sessions', 'Sessions'], ['#/clients', 'Clients'], ['#/screenings', 'Screenings'], ['#/waitlist', 'Waitlist'], ['#/groups', 'Groups']],
  admin: [['#/', 'Home'], ['#/groups', 'Groups'], ['#/clients', 'Clients'], ['#/staff', 'Staff'], ['#/reports', 'Reports']],
};

// [pattern, module, export]
const ROUTES = [
  [/^$/, './home.js', 'home'],
  [/^sessions$/, './home.js', 'sessions'],
  [/^sessions\/([0-9a-f-]{36})$/, './session.js', 'session'],
  [/^cosign$/, './cosign.js', 'cosign'],
  [/^clients$/, './clients.js', 'list'],
  [/^clients\/new$/, './clients.js', 'create'],
  [/^clients\/([0-9a-f-]{36})$/, './clients.js', 'detail'],
  [/^screenings$/, './screenings.js', 'list'],
  [/^screenings\/([0-9a-f-]{36})$/, './screenings.js', 'detail'],
  [/^waitlist$/, './screenings.js', 'waitlist'],
  [/^groups$/, './groups.js', 'list'],
  [/^groups\/new$/, './groups.js', 'create'],
  [/^groups\/([0-9a-f-]{36})$/, './groups.js', 'detail'],
  [/^memberships\/([0-9a-f-]{36})$/, './groups.js', 'membership'],
  [/^staff$/, './admin.js', 'staff'],
  [/^approvals$/, './admin.js', 'approvals'],
  [/^reports$/, './admin.js', 'reports'],
  [/^emergency$/, './emergency.js', 'emergency'],
];

const main = document.getElementById('main');

export function navigate(path) {
  if (location.hash === `#${path}`) route();
  else location.hash = path;
}

function currentPath() {
  return decodeURIComponent(location.hash.replace(/^#\/?/, '')).split('?')[0];
}

function drawShell(user) {
  const top = document.getElementById('top');
  top.hidden = !user;
  if (!user) return;
  put(document.getElementById('who'), h('span', {}, user.display_name), ' ', h('span', { class: 'role' }, `(${user.role})`));
  const path = `#/${currentPath()}`;
  put(document.getElementById('nav'), h('ul', {}, (NAV[user.role] || []).map(([href, label]) => {
    const here = href === path || (href !== '#/' && path.startsWith(href));
    return h('li', {}, h('a', { href, 'aria-current': here ? 'page' : null }, label));
  })));
}

let renderSeq = 0;

async function route() {
  const user = api.currentUser();
  drawShell(user);
  const seq = ++renderSeq;
  const view = h('div', { class: 'view' });
  if (!user) {
    const { login } = await import('./login.js');
    if (seq !== renderSeq) return;
    put(main, view);
    login(view, { navigate });
    return;
  }
  const path = currentPath();
  const hit = ROUTES.find(([re]) => re.test(path));
  put(main, view);
  if (!hit) {
    put(view, h('h1', { tabindex: '-1' }, 'Not found'), h('p', {}, h('a', { href: '#/' }, 'Back to home')));
    focusHeading(view);
    return;
  }
  const [re, mod, name] = hit;
  const params = re.exec(path).slice(1);
  try {
    const m = await import(mod);
    if (seq !== renderSeq) return;
    await m[name](view, params, { user, navigate });
  } catch (e) {
    if (seq !== renderSeq || !api.currentUser()) return;
    const { errorBox } = await import('./forms.js');
    view.append(errorBox(e));
  }
  if (seq === renderSeq) focusHeading(view);
}

function focusHeading(view) {
  const h1 = view.querySelector('h1');
  if (h1) {
    h1.setAttribute('tabindex', '-1');
    document.title = `${h1.textContent} · groupwork`;
    if (!view.contains(document.activeElement)) h1.focus({ preventScroll: true });
  }
}

api.onAuthChange((user, reason) => {
  if (reason === 'expired') announce('Your session has ended. Please sign in again.');
  if (reason === 'signout' || reason === 'expired') {
    sessionStorage.setItem('groupwork.notice', reason === 'expired' ? 'Your session has ended. Please sign in again.' : 'You have signed out.');
  }
  route();
});

document.getElementById('signout').addEventListener('click', () => api.logout());
window.addEventListener('hashchange', route);

(async () => {
  await api.resume();
  if (!api.currentUser()) route();
})();
