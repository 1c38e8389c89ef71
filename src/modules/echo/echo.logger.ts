// The few logger methods the echo classes call; pino's Logger (the platform logger) satisfies it structurally,
// and specs pass a recorder. Text that comes from the network goes in fields, never inside a message: with pretty
// logs a message is printed as is, so a reply holding a newline could forge a line of its own.
export interface EchoLogger {
  info(fields: Record<string, unknown>, message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}
