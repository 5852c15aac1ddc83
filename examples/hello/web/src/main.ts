import { createClient } from "@accord/client";
import { procedures, type Procedures } from "./api/index.js";

const url = process.env["HELLO_URL"] ?? "http://127.0.0.1:3000/rpc";
const client = createClient<Procedures>({ url, procedures });
console.log(await client.hello.greet({ name: "TypeScript" }));
