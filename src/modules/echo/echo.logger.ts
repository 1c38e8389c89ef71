// The few logger methods the echo classes call; pino's Logger (the platform logger) satisfies it structurally,
// and specs pass a recorder.
export interface EchoLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}
