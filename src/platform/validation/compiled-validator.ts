// Validation compiled once per DTO class from its class-validator metadata, so the hot path calls the
// constraints directly instead of running class-transformer and the ValidationExecutor on every request.
// The DTO decorators stay the single source of truth; a DTO using features this compiler does not cover
// (nested DTOs, `each`, async or conditional-by-group rules, class-transformer decorators) gets `undefined`
// here and is validated by the stock path instead.
import type { Type } from '@nestjs/common';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage.js';
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
}

interface PropertyPlan {
  property: string;
  conditions: ValidationMetadata[];
  defined: Rule[];
  rules: Rule[];
}

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

const TRANSFORMER_MAPS = [
  '_typeMetadatas',
  '_transformMetadatas',
  '_exposeMetadatas',
  '_excludeMetadatas',
] as const;

function usesClassTransformer(cls: Function): boolean {
  const storage = defaultMetadataStorage as unknown as Record<string, Map<Function, unknown>>;
  return TRANSFORMER_MAPS.some((m) => storage[m]?.has(cls));
}

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

export function compileValidator<T extends object>(cls: Type<T>): CompiledValidator<T> | undefined {
  if (usesClassTransformer(cls)) return undefined;
  const storage = getMetadataStorage();
  const metas = storage.getTargetValidationMetadatas(cls, '', true, false);
  if (metas.some((m) => !SUPPORTED.has(m.type) || m.each || m.validateIf || m.groups?.length || m.always)) {
    return undefined;
  }
  const grouped = storage.groupByPropertyName(metas);
  const toRules = (list: ValidationMetadata[]): Rule[] | undefined => {
    const rules: Rule[] = [];
    for (const meta of list) {
      for (const c of storage.getTargetValidatorConstraints(meta.constraintCls)) {
        if (c.async) return undefined;
        rules.push({ meta, constraint: c.instance, name: c.name });
      }
    }
    return rules;
  };
  const plans: PropertyPlan[] = [];
  for (const [property, list] of Object.entries(grouped)) {
    const defined = toRules(list.filter((m) => m.type === ValidationTypes.IS_DEFINED));
    const rules = toRules(list.filter((m) => m.type === ValidationTypes.CUSTOM_VALIDATION));
    if (!defined || !rules) return undefined;
    const conditions = list.filter((m) => m.type === ValidationTypes.CONDITIONAL_VALIDATION);
    plans.push({ property, conditions, defined, rules });
  }
  const allowed = new Set(plans.map((p) => p.property));

  return {
    problems(input) {
      const out: FieldProblem[] = [];
      for (const key of Object.keys(input)) {
        if (!allowed.has(key)) out.push({ field: key, message: `property ${key} should not exist` });
      }
      for (const plan of plans) {
        const value = input[plan.property];
        if (
          !plan.conditions.every((c) =>
            (c.constraints[0] as (o: unknown, v: unknown) => boolean)(input, value),
          )
        ) {
          continue;
        }
        for (const group of [plan.defined, plan.rules]) {
          for (const { meta, constraint } of group) {
            const args: ValidationArguments = {
              targetName: cls.name,
              property: plan.property,
              object: input,
              value,
              constraints: meta.constraints,
            };
            if (constraint.validate(value, args)) continue;
            const message =
              typeof meta.message === 'function'
                ? meta.message(args)
                : (meta.message ?? constraint.defaultMessage?.(args) ?? `${plan.property} is invalid`);
            out.push({ field: plan.property, message: render(message, args) });
          }
        }
      }
      return out;
    },
    instantiate(input) {
      return Object.assign(Object.create(cls.prototype) as T, input);
    },
  };
}
