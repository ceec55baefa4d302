/**
 * Compile flags that keep the build's own directories out of what it produces, so two builds of the
 * same sources in different cache dirs (or on different machines) give the same bytes.
 *
 * Every compile of the standalone build runs two levels below one root: the dependencies' CMake trees
 * in `<root>/build/<name>`, quiche in `<root>/out/<key>`; sources sit in `<root>/src/<name>`, installed
 * headers in `<root>/prefix/<name>`. GCC writes paths into objects in three places: `__FILE__` (asserts,
 * BoringSSL's error queue, abseil's and protobuf's logging), debug info (BoringSSL builds with -ggdb:
 * DW_AT_comp_dir, file names, the assembler's own line tables) and nothing else we use. The maps
 * rewrite them the way a relative invocation from the compile's directory would spell them:
 *
 *   <cwd>/x         -> x          (files in the compile's own directory, e.g. CMake's generated ones)
 *   <cwd>           -> .          (DW_AT_comp_dir)
 *   <root>/src/...  -> ../../src/...   (anything else under the root)
 *
 * That is also exactly what ccache's base_dir does to absolute paths before compiling (relative to the
 * compile's directory), so a compile gives the same object with ccache or without, whichever cache dir
 * filled the cache first. GCC tries the maps last-given first, hence the order. ccache hashes only the
 * new side of a map, so the flags do not stop a second cache dir from hitting the first one's objects.
 */
const withSlash = (dir: string) => (dir.endsWith('/') ? dir : `${dir}/`);
const withoutSlash = (dir: string) => dir.replace(/\/+$/, '');

/** `-ffile-prefix-map` flags for a compile that runs in `cwd`, two levels below `root`. */
export function prefixMapFlags(root: string, cwd: string): string[] {
  return [
    `-ffile-prefix-map=${withSlash(root)}=../../`,
    `-ffile-prefix-map=${withoutSlash(cwd)}=.`,
    `-ffile-prefix-map=${withSlash(cwd)}=`,
  ];
}
