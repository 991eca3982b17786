/**
 * The validation library, in the form every schema here is written with: zod's tree-shakable `zod/mini`
 * API (functions instead of methods, `z.string().check(z.minLength(1))` for `z.string().min(1)`).
 * Classic `import { z } from 'zod'` hands the bundler zod's whole namespace, so every deployed function
 * carried all of it (about 440 KB minified, ~14 ms to evaluate at cold start); with `zod/mini` a bundle
 * keeps only what it uses (tens of KB). Validation is zod's own core either way, and the English
 * messages are loaded here so errors read exactly as with classic zod ("Too small: expected string to
 * have >=1 characters"). Import it as `import * as z from '…/zod'`.
 */
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());

export * from 'zod/mini';
export type { $ZodType as Schema } from 'zod/v4/core';
