// The page's git reader, bundled by esbuild into one ES module (dist/git.js) and imported by
// the wasm only when a diff is first needed. It clones one branch (depth 1, no checkout) over
// the server's read-only git relay into a throw-away in-memory fs and reads files at that
// commit. The token travels in an Authorization header only; nothing is stored.

import { clone, readBlob, resolveRef } from 'isomorphic-git';

const git = { clone, readBlob, resolveRef };
import http from 'isomorphic-git/http/web';
import { createTwoFilesPatch } from 'diff';

/** A node-style error with the `code` isomorphic-git looks at. */
function fsError(code, path) {
  const error = new Error(`${code}: ${path}`);
  error.code = code;
  return error;
}

function normalize(path) {
  const parts = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return '/' + parts.join('/');
}

function parentOf(path) {
  const index = path.lastIndexOf('/');
  return index <= 0 ? '/' : path.slice(0, index);
}

/** The promises API isomorphic-git needs, in memory: files, directories and symlinks. */
function memoryFs() {
  // path -> { type: 'file' | 'dir' | 'symlink', data?: Uint8Array, target?: string, mtimeMs }
  const nodes = new Map([['/', { type: 'dir', mtimeMs: Date.now() }]]);
  let inode = 1;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  const get = (path) => nodes.get(normalize(path));
  const parentDir = (path) => {
    const parent = nodes.get(parentOf(path));
    if (!parent) throw fsError('ENOENT', path);
    if (parent.type !== 'dir') throw fsError('ENOTDIR', path);
  };
  const stats = (node) => {
    const size = node.type === 'file' ? node.data.length : 0;
    const mode = node.type === 'dir' ? 0o40755 : node.type === 'symlink' ? 0o120000 : 0o100644;
    return {
      type: node.type,
      mode,
      size,
      ino: node.ino,
      uid: 1,
      gid: 1,
      dev: 1,
      mtimeMs: node.mtimeMs,
      ctimeMs: node.mtimeMs,
      isFile: () => node.type === 'file',
      isDirectory: () => node.type === 'dir',
      isSymbolicLink: () => node.type === 'symlink',
    };
  };
  const encodingOf = (options) => (typeof options === 'string' ? options : options && options.encoding);

  const promises = {
    async readFile(path, options) {
      if (typeof path !== 'string') throw fsError('EINVAL', String(path));
      const node = get(path);
      if (!node) throw fsError('ENOENT', path);
      if (node.type === 'dir') throw fsError('EISDIR', path);
      if (node.type !== 'file') throw fsError('EINVAL', path);
      return encodingOf(options) ? decoder.decode(node.data) : node.data;
    },
    async writeFile(path, data, _options) {
      path = normalize(path);
      parentDir(path);
      const existing = nodes.get(path);
      if (existing && existing.type === 'dir') throw fsError('EISDIR', path);
      const bytes = typeof data === 'string' ? encoder.encode(data) : new Uint8Array(data);
      nodes.set(path, { type: 'file', data: bytes, ino: inode++, mtimeMs: Date.now() });
    },
    async unlink(path) {
      path = normalize(path);
      const node = nodes.get(path);
      if (!node) throw fsError('ENOENT', path);
      if (node.type === 'dir') throw fsError('EISDIR', path);
      nodes.delete(path);
    },
    async readdir(path) {
      path = normalize(path);
      const node = nodes.get(path);
      if (!node) throw fsError('ENOENT', path);
      if (node.type !== 'dir') throw fsError('ENOTDIR', path);
      const prefix = path === '/' ? '/' : path + '/';
      const names = [];
      for (const key of nodes.keys()) {
        if (key !== path && key.startsWith(prefix) && !key.slice(prefix.length).includes('/')) {
          names.push(key.slice(prefix.length));
        }
      }
      return names.sort();
    },
    async mkdir(path) {
      path = normalize(path);
      if (nodes.has(path)) throw fsError('EEXIST', path);
      parentDir(path);
      nodes.set(path, { type: 'dir', ino: inode++, mtimeMs: Date.now() });
    },
    async rmdir(path) {
      path = normalize(path);
      const node = nodes.get(path);
      if (!node) throw fsError('ENOENT', path);
      if (node.type !== 'dir') throw fsError('ENOTDIR', path);
      if ((await promises.readdir(path)).length > 0) throw fsError('ENOTEMPTY', path);
      nodes.delete(path);
    },
    async stat(path) {
      let node = get(path);
      for (let hops = 0; node && node.type === 'symlink' && hops < 16; hops++) {
        node = get(node.target.startsWith('/') ? node.target : parentOf(normalize(path)) + '/' + node.target);
      }
      if (!node) throw fsError('ENOENT', path);
      return stats(node);
    },
    async lstat(path) {
      const node = get(path);
      if (!node) throw fsError('ENOENT', path);
      return stats(node);
    },
    async readlink(path) {
      const node = get(path);
      if (!node) throw fsError('ENOENT', path);
      if (node.type !== 'symlink') throw fsError('EINVAL', path);
      return node.target;
    },
    async symlink(target, path) {
      path = normalize(path);
      if (nodes.has(path)) throw fsError('EEXIST', path);
      parentDir(path);
      nodes.set(path, { type: 'symlink', target, ino: inode++, mtimeMs: Date.now() });
    },
  };
  return { promises };
}

// The last clone, reused while the page asks for the same repository, branch and generation
// (a new generation, e.g. Retry or coming back to the form, clones again).
let last = null;

async function cloneBranch(url, branch, token) {
  const fs = memoryFs();
  const dir = '/repo';
  const headers = { Authorization: `Bearer ${token}` };
  try {
    await git.clone({ fs, http, dir, url, ref: branch, singleBranch: true, depth: 1, noCheckout: true, noTags: true, headers });
  } catch (error) {
    // An empty or missing repository, or a branch that is not there: every file is new.
    const status = error && error.data && error.data.statusCode;
    if ((error && error.code === 'NotFoundError') || status === 404) return { fs, dir, commit: null };
    throw error;
  }
  let commit = null;
  for (const ref of [`refs/remotes/origin/${branch}`, `refs/heads/${branch}`, 'HEAD']) {
    try {
      commit = await git.resolveRef({ fs, dir, ref });
      break;
    } catch (_) {
      // try the next name
    }
  }
  return { fs, dir, commit };
}

function describe(error) {
  const status = error && error.data && error.data.statusCode;
  if (status === 401 || status === 403) {
    return `Bitbucket refused to let this token read the repository (HTTP ${status}).`;
  }
  if (status) return `the git relay answered HTTP ${status} ${error.data.statusMessage || ''}`.trim();
  return (error && error.message) || String(error);
}

/**
 * The branch `branch` of the repository at `url` (the relay's clone URL): its commit (null when
 * there is none) and the text of each of `paths` there (null when the file is not there).
 * `key` names the clone to reuse; another key clones afresh.
 */
export async function readBranch(key, url, branch, token, paths) {
  try {
    if (!last || last.key !== key) {
      last = { key, clone: cloneBranch(url, branch, token) };
    }
    let clone;
    try {
      clone = await last.clone;
    } catch (error) {
      last = null;
      throw error;
    }
    const decoder = new TextDecoder();
    const files = [];
    for (const filepath of paths) {
      if (!clone.commit) {
        files.push(null);
        continue;
      }
      try {
        const { blob } = await git.readBlob({ fs: clone.fs, dir: clone.dir, oid: clone.commit, filepath });
        files.push(decoder.decode(blob));
      } catch (error) {
        if (error && error.code === 'NotFoundError') files.push(null);
        else throw error;
      }
    }
    return { commit: clone.commit, files };
  } catch (error) {
    throw new Error(describe(error));
  }
}

/**
 * The unified diff of `oldText` to `newText` for `path` (`a/` and `b/` headers, 3 lines of
 * context), as git shows it; jsdiff's leading `===` separator line is left out. The diff runs
 * here, in the lazily loaded module, so the page's first download carries no diff algorithm.
 */
export function unifiedDiff(path, oldText, newText, context) {
  const patch = createTwoFilesPatch(`a/${path}`, `b/${path}`, oldText, newText, undefined, undefined, {
    context,
  });
  return patch.startsWith('=') ? patch.slice(patch.indexOf('\n') + 1) : patch;
}
