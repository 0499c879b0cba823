/**
 * Number parsers for the CLI's options (commander `argParser`s): one definition, one message each,
 * shared by every command.
 */
import { InvalidArgumentError } from 'commander';

/** A finite number > 0. */
export function positive(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number > 0');
  return n;
}

/** A finite number >= 0. */
export function nonNegative(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0');
  return n;
}

/** An integer >= 1. */
export function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected an integer >= 1');
  return n;
}

/** An integer >= 0. */
export function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected an integer >= 0');
  return n;
}
