// isomorphic-git uses node's Buffer as a global; esbuild injects this module's Buffer for it.
export { Buffer } from 'buffer';
