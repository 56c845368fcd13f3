// Read an LDES to its end with the npm ldes-client, in ascending time order: `node read.mjs URL`.
// Prints one JSON line per page fetched ({fragment, immutable}) and per member ({id, timestamp, isVersionOf,
// types}); exits 0 once the stream is read to its end, 1 on an error.
import { intoConfig, replicateLDES } from "ldes-client";

const RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const client = replicateLDES(intoConfig({ url: process.argv[2] }), "ascending");
client.on("fragment", (page) => console.log(JSON.stringify({ fragment: page.url, immutable: page.immutable })));
try {
  const reader = client.stream().getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    const { id, timestamp, isVersionOf, quads } = next.value;
    const types = quads.filter((q) => q.subject.equals(id) && q.predicate.value === RDF_TYPE).map((q) => q.object.value);
    console.log(JSON.stringify({ id: id.value, timestamp, isVersionOf, types }));
  }
} catch (error) {
  console.error(error);
  process.exit(1);
}
process.exit(0);
