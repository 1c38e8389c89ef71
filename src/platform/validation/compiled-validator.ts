// Validation compiled once per DTO class from its class-validator metadata, so the hot path calls the
// constraints directly instead of running the ValidationExecutor on every request. The DTO decorators stay the
// single source of truth; a DTO using features this compiler does not cover (nested DTOs, `each`, async or
// conditional-by-group rules) gets `undefined` here and is validated by class-validator itself instead.
import type { Type } from '@nestjs/common';
import {
  getMetadataStorage,
  ValidationTypes,
  type ValidationArguments,
  type ValidatorConstraintInterface,
} from 'class-validator';

type ValidationMetadata = ReturnType<
  ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']
>[number];
import type { FieldProblem } from '../errors/app-error.js';

interface Rule {
  meta: ValidationMetadata;
  constraint: ValidatorConstraintInterface;
  name: string;
  /** The arguments the constraint is called with, made once: each call sets its object and value. */
  args: ValidationArguments;
}

interface PropertyPlan {
  property: string;
  conditions: ValidationMetadata[];
  /** IsDefined rules first, then the others, as class-validator runs them. */
  checks: Rule[];
}

/** What problems() gives for valid input: one shared empty list, nothing made per call. */
const NO_PROBLEMS: readonly FieldProblem[] = Object.freeze([]);

export interface CompiledValidator<T> {
  /** Field problems in the order class-validator reports them; an empty list means valid. */
  problems(input: Record<string, unknown>): FieldProblem[];
  instantiate(input: Record<string, unknown>): T;
}

const SUPPORTED = new Set<string>([
  ValidationTypes.CUSTOM_VALIDATION,
  ValidationTypes.IS_DEFINED,
  ValidationTypes.CONDITIONAL_VALIDATION,
  ValidationTypes.WHITELIST,
]);

function constraintString(c: unknown): string {
  if (Array.isArray(c)) return c.join(', ');
  if (typeof c === 'symbol') return String(c.description);
  return `${c}`;
}

/** class-validator's message tokens ($property, $value, $constraintN, $target). */
function render(message: string, args: ValidationArguments): string {
  let out = message;
  (args.constraints ?? []).forEach((c, i) => {
    out = out.replace(new RegExp(`\\$constraint${i + 1}`, 'g'), constraintString(c));
  });
  if (
    args.value !== undefined &&
    args.value !== null &&
    ['string', 'boolean', 'number'].includes(typeof args.value)
  ) {
    out = out.replace(/\$value/g, String(args.value));
  }
  return out.replace(/\$property/g, args.property).replace(/\$target/g, args.targetName);
}

function conditionsHold(conditions: ValidationMetadata[], input: object, value: unknown): boolean {
  for (const c of conditions)
    if (!(c.constraints[0] as (o: unknown, v: unknown) => boolean)(input, value)) return false;
  return true;
}

export function compileValidator<T extends object>(cls: Type<T>): CompiledValidator<T> | undefined {
  const storage = getMetadataStorage();
  const metas = storage.getTargetValidationMetadatas(cls, '', true, false);
  if (metas.some((m) => !SUPPORTED.has(m.type) || m.each || m.validateIf || m.groups?.length || m.always)) {
    return undefined;
  }
  const grouped = storage.groupByPropertyName(metas);
  const toRules = (property: string, list: ValidationMetadata[]): Rule[] | undefined => {
    const rules: Rule[] = [];
    for (const meta of list) {
      for (const c of storage.getTargetValidatorConstraints(meta.constraintCls)) {
        if (c.async) return undefined;
        const args = {
          targetName: cls.name,
          property,
          object: {},
          value: undefined,
          constraints: meta.constraints,
        };
        rules.push({ meta, constraint: c.instance, name: c.name, args });
      }
    }
    return rules;
  };
  const plans: PropertyPlan[] = [];
  for (const [property, list] of Object.entries(grouped)) {
    const defined = toRules(
      property,
      list.filter((m) => m.type === ValidationTypes.IS_DEFINED),
    );
    const rules = toRules(
      property,
      list.filter((m) => m.type === ValidationTypes.CUSTOM_VALIDATION),
    );
    if (!defined || !rules) return undefined;
    const conditions = list.filter((m) => m.type === ValidationTypes.CONDITIONAL_VALIDATION);
    plans.push({ property, conditions, checks: [...defined, ...rules] });
  }
  const allowed = new Set(plans.map((p) => p.property));

  return {
    // Valid input, the common case, allocates only its key list here: no problem list, arguments object or closure.
    problems(input) {
      let out: FieldProblem[] | undefined;
      for (const key of Object.keys(input)) {
        if (!allowed.has(key)) (out ??= []).push({ field: key, message: `property ${key} should not exist` });
      }
      for (const plan of plans) {
        const value = input[plan.property];
        if (!conditionsHold(plan.conditions, input, value)) continue;
        for (const { meta, constraint, args } of plan.checks) {
          args.object = input;
          args.value = value;
          const valid = constraint.validate(value, args);
          // The shared arguments keep no reference to the input once it is checked; a failure's message gets a copy.
          const failed = valid ? undefined : { ...args };
          args.object = args.value = undefined as never;
          if (!failed) continue;
          const message =
            typeof meta.message === 'function'
              ? meta.message(failed)
              : (meta.message ?? constraint.defaultMessage?.(failed) ?? `${plan.property} is invalid`);
          (out ??= []).push({ field: plan.property, message: render(message, failed) });
        }
      }
      return out ?? (NO_PROBLEMS as FieldProblem[]);
    },
    instantiate(input) {
      return Object.assign(Object.create(cls.prototype) as T, input);
    },
  };
}
