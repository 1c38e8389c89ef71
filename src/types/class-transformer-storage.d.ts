// class-transformer keeps its metadata storage in a module its typings do not declare.
declare module 'class-transformer/cjs/storage.js' {
  export const defaultMetadataStorage: unknown;
}
