// docker's prompt.Confirm: prints "MESSAGE [y/N] " and reads one line of input; only "y"
// (either case, surrounding white space ignored) confirms. End of input declines.
import type { Cli } from './cli.ts';

export async function confirm(cli: Cli, message: string): Promise<boolean> {
  cli.out.write(`${message} [y/N] `);
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    const onData = (c: Buffer | string) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) done(buf.slice(0, nl).replace(/\r$/, ''));
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
  return line.trim().toLowerCase() === 'y';
}
