// Reads ROLE (and the rest of the environment) and boots that role.
import { bootstrap } from './roles/bootstrap.js';

// eslint-disable-next-line no-restricted-syntax -- the one place the raw environment enters the program
void bootstrap(process.env);
