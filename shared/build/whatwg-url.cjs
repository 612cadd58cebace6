// What the bundles load for `whatwg-url`: node-fetch 2 (inside @kubernetes/client-node) requires it but uses it only
// where Node has no URL class (`Url.URL || whatwgUrl.URL`), and loading it costs start-up time: its tr46 parses
// a 260 KB Unicode table.
exports.URL = URL;
