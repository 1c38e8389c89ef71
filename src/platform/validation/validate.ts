// The one validation step for HTTP bodies/queries and RPC payloads: class-validator DTOs with whitelist,
// forbidNonWhitelisted and transform, turned into a 400 AppError listing every field problem. DTOs are compiled
// once (compiled-validator.ts); class-validator's own validateSync() covers what that cannot.
import type { Type } from '@nestjs/common';
import { validateSync, type ValidationError } from 'class-validator';
import { AppError, type FieldProblem } from '../errors/app-error.js';
import { compileValidator, type CompiledValidator } from './compiled-validator.js';

function flatten(errors: ValidationError[], prefix = ''): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    for (const message of Object.values(e.constraints ?? {})) out.push({ field, message });
    if (e.children?.length) out.push(...flatten(e.children, field));
  }
  return out;
}

/** Two rules failing with the same message (IsString and Length both saying "must be a code") are one problem. */
export function validationError(problems: FieldProblem[], status = 400): AppError {
  const seen = new Set<string>();
  const distinct = problems.filter((p) => {
    const key = `${p.field}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const detail = [...new Set(distinct.map((p) => p.message))].join('; ');
  return new AppError(status, 'validation_failed', detail || 'Invalid input', distinct);
}

/**
 * The stock path: the input's fields on an instance of the DTO class, then class-validator, every time. DTOs are
 * flat classes without class-transformer decorators (a lint rule keeps class-transformer out), so this makes the
 * instance plainToInstance() made without implicit conversion.
 */
export function validateDtoStock<T extends object>(
  cls: Type<T>,
  input: object,
): { instance: T; problems: FieldProblem[] } {
  // Defined, not assigned: an own "__proto__" field (JSON.parse makes one) stays a field, reported as unknown.
  const instance = Object.defineProperties(
    Object.create(cls.prototype) as T,
    Object.getOwnPropertyDescriptors(input),
  );
  const errors = validateSync(instance, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
  });
  return { instance, problems: flatten(errors) };
}

const compiled = new WeakMap<Function, CompiledValidator<object> | null>();

/** Validates plain input against a DTO class and returns the typed instance, or throws a 400 AppError. */
export function validateDto<T extends object>(cls: Type<T>, input: unknown): T {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new AppError(400, 'validation_failed', 'Expected a JSON object', []);
  }
  let validator = compiled.get(cls);
  if (validator === undefined) {
    validator = compileValidator(cls) ?? null;
    compiled.set(cls, validator);
  }
  if (validator) {
    const problems = validator.problems(input as Record<string, unknown>);
    if (problems.length > 0) throw validationError(problems);
    return validator.instantiate(input as Record<string, unknown>) as T;
  }
  const { instance, problems } = validateDtoStock(cls, input);
  if (problems.length > 0) throw validationError(problems);
  return instance;
}

const PRIMITIVES = new Set<unknown>([String, Number, Boolean, Object, Array]);

/** Whether a parameter type is a DTO class worth validating (not a primitive or an interface-erased Object). */
export function isDtoClass(t: unknown): t is Type<object> {
  return typeof t === 'function' && !PRIMITIVES.has(t);
}
