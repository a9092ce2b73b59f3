// One record of Go's encoding/csv (as docker reads --mount, --network and --gpus values):
// comma-separated fields, double-quoted fields may contain commas and "" for a quote.

export function readCsvRecord(line: string): string[] {
  if (line === '') throw new Error('EOF');
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let field = '';
      let j = i + 1;
      for (;;) {
        if (j >= line.length) throw new Error(`record on line 1; parse error on line 2, column 0: extraneous or missing " in quoted-field`);
        if (line[j] === '"') {
          if (line[j + 1] === '"') {
            field += '"';
            j += 2;
            continue;
          }
          j++;
          break;
        }
        field += line[j++];
      }
      if (j < line.length && line[j] !== ',') throw new Error(`parse error on line 1, column ${j + 1}: extraneous or missing " in quoted-field`);
      fields.push(field);
      if (j >= line.length) return fields;
      i = j + 1;
    } else {
      const end = line.indexOf(',', i);
      const field = end < 0 ? line.slice(i) : line.slice(i, end);
      const q = field.indexOf('"');
      if (q >= 0) throw new Error(`parse error on line 1, column ${i + q + 1}: bare " in non-quoted-field`);
      fields.push(field);
      if (end < 0) return fields;
      i = end + 1;
    }
  }
}
