// Dates and times, always in the time zone they belong to (a group's, else the browser's).

export const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

const cache = new Map();
function fmt(tz, opts) {
  const key = `${tz}|${JSON.stringify(opts)}`;
  if (!cache.has(key)) cache.set(key, new Intl.DateTimeFormat(undefined, { timeZone: tz, ...opts }));
  return cache.get(key);
}

export function dateTime(iso, tz = browserZone) {
  if (!iso) return '';
  return fmt(tz, { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }).format(new Date(iso));
}

export function time(iso, tz = browserZone) {
  if (!iso) return '';
  return fmt(tz, { hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }).format(new Date(iso));
}

export function day(iso, tz = browserZone) {
  if (!iso) return '';
  return fmt(tz, { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric' }).format(new Date(iso));
}

/// A calendar date `YYYY-MM-DD` shown as such (no time zone shift).
export function calendarDate(ymd) {
  if (!ymd) return '';
  const [y, m, d] = ymd.split('-').map(Number);
  return fmt('UTC', { year: 'numeric', month: 'short', day: 'numeric' }).format(new Date(Date.UTC(y, m - 1, d)));
}

/// `YYYY-MM-DD` of an instant in a time zone.
export function ymdIn(date, tz = browserZone) {
  const p = Object.fromEntries(fmt(tz, { year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(date).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}`;
}

export function today(tz = browserZone) {
  return ymdIn(new Date(), tz);
}

export function addDays(ymd, n) {
  const [y, m, d] = ymd.split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d + n));
  return t.toISOString().slice(0, 10);
}

function offsetMs(utcMs, tz) {
  const p = Object.fromEntries(fmt(tz, { hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    .formatToParts(new Date(utcMs)).map((x) => [x.type, x.value]));
  const asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second);
  return asUtc - utcMs;
}

/// A local `YYYY-MM-DDTHH:MM` (as a datetime-local input gives it) in `tz` → RFC 3339 UTC.
export function localToUtc(local, tz = browserZone) {
  const [d, t] = local.split('T');
  const [y, m, dd] = d.split('-').map(Number);
  const [hh, mm] = (t || '00:00').split(':').map(Number);
  const guess = Date.UTC(y, m - 1, dd, hh, mm);
  let utc = guess - offsetMs(guess, tz);
  utc = guess - offsetMs(utc, tz);
  return new Date(utc).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/// An instant → `YYYY-MM-DDTHH:MM` in `tz`, for a datetime-local input.
export function utcToLocal(iso, tz = browserZone) {
  const ms = new Date(iso).getTime();
  const local = new Date(ms + offsetMs(ms, tz));
  return local.toISOString().slice(0, 16);
}
