/**
 * avsc's Avro types alone (avsc/lib/types, what the package re-exports as `Type`), without its file,
 * container and RPC modules: half of avsc's size in update-analytics's bundle (docs/deploy.md).
 */
declare module 'avsc/lib/types' {
  export { Type } from 'avsc';
}
