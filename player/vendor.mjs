// Copies the pinned players' browser builds and licences from node_modules into vendor/
// (run `npm install && npm run vendor` in player/ after changing a version in package.json).
import { copyFileSync } from 'node:fs';

const files = [
  ['node_modules/hls.js/dist/hls.min.js', 'vendor/hls.min.js'],
  ['node_modules/hls.js/LICENSE', 'vendor/hls.js-LICENSE'],
  ['node_modules/dashjs/dist/modern/umd/dash.mediaplayer.min.js', 'vendor/dash.mediaplayer.min.js'],
  ['node_modules/dashjs/LICENSE.md', 'vendor/dashjs-LICENSE.md'],
];
for (const [from, to] of files) {
  copyFileSync(from, to);
  console.log(`${from} -> ${to}`);
}
