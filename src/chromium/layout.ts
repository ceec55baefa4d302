/** Where things are in a Chromium tree (paths relative to the gclient root, or to src/). */

export const QUICHE_PATH_IN_SRC = 'net/third_party/quiche/src';
export const QUICHE_DEP_PATH = `src/${QUICHE_PATH_IN_SRC}`;
export const DEPOT_TOOLS_DEP_PATH = 'src/third_party/depot_tools';
