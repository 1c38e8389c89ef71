// Every HTTP route declares who may call it: @Public(), or @Protected() next to the guard that protects it.
// The route check at boot refuses to start a role with a route that says neither.
import { SetMetadata } from '@nestjs/common';

export const ACCESS = 'polyrole:access';
export type Access = 'public' | 'protected';

export const Public = () => SetMetadata(ACCESS, 'public' satisfies Access);
export const Protected = () => SetMetadata(ACCESS, 'protected' satisfies Access);
