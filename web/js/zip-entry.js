// "Download zip" of the previewed files, bundled by esbuild into its own ES module (dist/zip.js)
// and imported by the wasm only when the button is first pressed.

import { strToU8, zipSync } from 'fflate';

/** Offers `names` (paths in the repository) with `contents` as `fileName` to the browser. */
export function downloadZip(fileName, names, contents) {
  const entries = {};
  names.forEach((name, index) => {
    entries[name] = strToU8(contents[index]);
  });
  const blob = new Blob([zipSync(entries, { level: 6 })], { type: 'application/zip' });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
