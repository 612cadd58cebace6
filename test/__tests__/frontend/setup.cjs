// jsdom cannot parse the CSS cascade layers (@layer) of Backstage's UI package and says so once per
// stylesheet; the card does not depend on those styles. Every other console error still shows.
const error = console.error.bind(console);
console.error = (first, ...rest) => {
  if (String(first?.message ?? first).startsWith('Could not parse CSS stylesheet')) return;
  error(first, ...rest);
};
