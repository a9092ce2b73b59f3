// docker's prompts: prompt.Confirm prints "MESSAGE [y/N] " and reads one line of input;
// only "y" (either case, surrounding white space ignored) confirms. End of input declines.
// readLine is its PromptForInput (login's "Username: ", and "Password: " without echo).
import type { Cli } from './cli.ts';

export async function confirm(cli: Cli, message: string): Promise<boolean> {
  const line = await readLine(cli, `${message} [y/N] `);
  return line.trim().toLowerCase() === 'y';
}

/** Prints the prompt and reads one line (without its line end); hidden turns the terminal's echo off meanwhile. */
export async function readLine(cli: Cli, prompt: string, hidden = false): Promise<string> {
  // The echo goes off before the prompt shows, as docker's DisableInputEcho.
  const raw = hidden && cli.inIsTerminal && typeof cli.in.setRawMode === 'function';
  if (raw) cli.in.setRawMode!(true);
  cli.out.write(prompt);
  try {
    return await new Promise<string>((resolve) => {
      let buf = '';
      const onData = (c: Buffer | string) => {
        buf += c.toString();
        const nl = raw ? buf.search(/[\r\n]/) : buf.indexOf('\n');
        if (nl >= 0) done(buf.slice(0, nl).replace(/\r$/, ''));
        else if (raw && buf.includes('\x03')) done('');
      };
      const onEnd = () => done(buf);
      const done = (s: string) => {
        cli.in.off('data', onData);
        cli.in.off('end', onEnd);
        cli.in.off('error', onEnd);
        cli.in.pause();
        resolve(s);
      };
      cli.in.on('data', onData);
      cli.in.once('end', onEnd);
      cli.in.once('error', onEnd);
      cli.in.resume();
    });
  } finally {
    if (raw) cli.in.setRawMode!(false);
  }
}
