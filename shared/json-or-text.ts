// A body that is JSON when the other side had something structured to say
// (a Kubernetes Status, an API error) and plain text otherwise (a log, a proxy's
// page): parsed when it parses, kept as the text when it does not.

export function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
