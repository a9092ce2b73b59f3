// Container names: Docker's validation rule and its "adjective_surname" generator.
import { randomInt } from 'node:crypto';
import { badParameter } from '../util/errors.ts';

const VALID = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function validateName(name: string): string {
  if (!VALID.test(name)) throw badParameter(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.startsWith('/') ? name : `/${name}`;
}

const ADJECTIVES = [
  'admiring', 'agile', 'amazing', 'bold', 'brave', 'busy', 'calm', 'clever', 'cool', 'crisp', 'eager', 'elastic',
  'epic', 'exciting', 'fervent', 'focused', 'friendly', 'gallant', 'gentle', 'happy', 'hopeful', 'jolly', 'keen',
  'kind', 'laughing', 'lucid', 'modest', 'nice', 'nifty', 'optimistic', 'patient', 'peaceful', 'practical',
  'quirky', 'relaxed', 'serene', 'sharp', 'steady', 'sweet', 'tender', 'trusting', 'upbeat', 'vibrant', 'wizardly',
  'youthful', 'zealous',
];
const SURNAMES = [
  'agnesi', 'archimedes', 'babbage', 'bardeen', 'bell', 'blackwell', 'bohr', 'boole', 'cannon', 'carson', 'curie',
  'darwin', 'dijkstra', 'einstein', 'euler', 'faraday', 'fermat', 'feynman', 'franklin', 'galileo', 'gauss',
  'goldberg', 'hamilton', 'hopper', 'hypatia', 'johnson', 'kepler', 'knuth', 'lamarr', 'lovelace', 'maxwell',
  'meitner', 'mirzakhani', 'newton', 'noether', 'pascal', 'ramanujan', 'ritchie', 'shannon', 'thompson', 'turing',
  'volta', 'wozniak', 'yonath',
];

export function randomName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SURNAMES[randomInt(SURNAMES.length)]}`;
}
