/** A GitHub-flavoured markdown table: what every benchmark prints and writes to bench/RESULTS.md. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
    const escape = (cell: string | number) => String(cell).replace(/\|/g, '\\|');
    const lines = [`| ${headers.map(escape).join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`];
    for (const row of rows) lines.push(`| ${row.map(escape).join(' | ')} |`);
    return lines.join('\n');
}
