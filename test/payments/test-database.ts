// Unit specs of the payment modules get a throw-away schema on the run's test PostgreSQL through this one helper,
// so the source of that database can change in one place (today: the calculator's openTestSchema, which reads
// DATABASE_URL or the server the Jest global setup started).
export { openTestSchema, type TestSchema } from '../calculator/test-database.js';
