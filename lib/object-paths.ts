/** Dotted paths (`archive.s3.bucket`) into the plain objects the config files parse to. */

type Tree = Record<string, unknown>;

/** Sets the value at `path`, creating the objects on the way. */
export function setPath(target: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    node = (next && typeof next === 'object' ? next : (node[key] = {})) as Tree;
  }
  node[keys[keys.length - 1]!] = value;
}

/** The value at `path`, or undefined when any part of it is missing. */
export function valueAt(target: Tree, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Tree)[key] : undefined), target);
}
