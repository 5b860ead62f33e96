// The index page: links to the two displays, one per recovery unit when there are
// several. A file of its own, not inline: the pages' Content-Security-Policy runs
// scripts from this server only.
import { t, language } from '/displays/assets/i18n.js';
import { applyStaticText, byName, fill, getJSON, h, languageSwitch, startLanguage } from '/displays/assets/common.js';

startLanguage();
let units = [];
const withLang = (path) => `${path}${path.includes('?') ? '&' : '?'}lang=${language()}`;
function render() {
  applyStaticText();
  document.title = t('index.title');
  document.getElementById('link-recovery').href = withLang('/displays/recovery');
  document.getElementById('link-beds').href = withLang('/displays/beds');
  fill(
    document.getElementById('recovery-units'),
    units.length > 1
      ? units.map((u) => h('a', { href: withLang(`/displays/recovery?unit=${encodeURIComponent(u.id)}`) }, [u.name, u.siteName].filter(Boolean).join(' · ')))
      : null,
  );
}
languageSwitch(document.getElementById('lang'), render);
render();
const r = await getJSON('/picture?kind=recovery-unit');
if (r.ok) {
  units = (r.body?.units ?? []).sort((a, b) => byName(a.name, b.name));
  render();
}
