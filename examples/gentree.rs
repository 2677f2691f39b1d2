//! Generate a synthetic monorepo for benchmarks: deterministic (seeded),
//! realistic content (TS/TSX with JSX and imports, Python modules with
//! classes and decorators, JSON, Markdown), a few files over 200 KB, a 5 MB
//! minified bundle under an ignored `dist/`, an ignored `node_modules/` with
//! many files, and a handful of planted findings (fake keys, and AI
//! endpoints with no rate limit or auth), listed in `PLANTED.txt`.
//!
//! cargo run --release --example gentree -- OUT_DIR FILES [SEED]

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: gentree OUT_DIR FILES [SEED]");
        std::process::exit(2);
    }
    let out = Path::new(&args[1]);
    let files: usize = args[2].parse().expect("FILES is a number");
    let seed: u64 = args
        .get(3)
        .map(|s| s.parse().expect("SEED is a number"))
        .unwrap_or(42);
    let catalog = aiguard::catalog::Catalog::load(&[]).expect("catalog");
    let mut rng = fastrand::Rng::with_seed(seed);
    if out.exists() {
        fs::remove_dir_all(out).expect("clear OUT_DIR");
    }
    let write = |rel: &str, text: &str| {
        let path = out.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    write(
        ".gitignore",
        "node_modules/\ndist/\n.env\n.env.*\n!.env.example\n__pycache__/\n",
    );
    write(
        "package.json",
        "{ \"name\": \"mono\", \"private\": true, \"workspaces\": [\"apps/*\", \"packages/*\"] }\n",
    );
    let apps = ["web", "admin", "docs", "api", "worker", "ml"];
    let mut planted = Vec::new();
    for i in 0..files {
        let app = apps[i % apps.len()];
        let dir = format!("apps/{app}/src/mod{:03}", (i / 40) % 1000);
        let (rel, text) = match i % 10 {
            0..=3 => (format!("{dir}/component{i}.tsx"), tsx_file(i, &mut rng)),
            4 | 5 => (format!("{dir}/util{i}.ts"), ts_file(i, &mut rng)),
            6 | 7 => (format!("{dir}/service_{i}.py"), py_file(i, &mut rng)),
            8 => (format!("{dir}/data{i}.json"), json_file(i, &mut rng)),
            _ => (format!("{dir}/notes{i}.md"), md_file(i, &mut rng)),
        };
        let text = if i % 997 == 13 {
            // A planted key, about 20 in a 20,000-file tree.
            let ids = [
                "openai-project-key",
                "anthropic-api-key",
                "groq-api-key",
                "huggingface-token",
            ];
            let id = ids[planted.len() % ids.len()];
            let template = aiguard::fake::key_template(&catalog.keys, id).unwrap();
            let key = aiguard::fake::expand(&template, &mut rng);
            planted.push(format!("{rel} {id}"));
            format!("{text}\nconst LEAKED = \"{key}\";\n")
        } else {
            text
        };
        write(&rel, &text);
        if i % 2500 == 7 {
            // A planted AI endpoint with no rate limit, no auth and a
            // client-chosen max_tokens: about 8 in a 20,000-file tree, half
            // FastAPI, half Next.js route handlers.
            let (rel, text) = if planted.len() % 2 == 0 {
                (format!("apps/api/src/chat/chat_{i}.py"), py_chat(i))
            } else {
                (format!("apps/web/app/api/chat{i}/route.ts"), next_chat())
            };
            planted.push(format!("{rel} ai-endpoint"));
            write(&rel, &text);
        }
    }
    for i in 0..4 {
        // Files over 200 KB.
        let mut big = String::new();
        for j in 0..6000 {
            let _ = writeln!(
                big,
                "export const value{j} = {{ id: {j}, label: \"item {j} of {i}\", enabled: {} }};",
                j % 2 == 0
            );
        }
        write(&format!("packages/generated/src/big{i}.ts"), &big);
    }
    let bundle: String = (0..140_000)
        .map(|j| format!("var a{j}=function(e){{return e+{j}}};"))
        .collect();
    write(
        "apps/web/dist/bundle.min.js",
        &bundle[..bundle.len().min(5 * 1024 * 1024)],
    );
    for i in 0..(files / 4) {
        write(
            &format!("node_modules/pkg{}/lib/index{i}.js", i % 200),
            &ts_file(i, &mut rng),
        );
    }
    write("PLANTED.txt", &(planted.join("\n") + "\n"));
    eprintln!(
        "wrote {files} files (+ node_modules, dist) to {}; {} planted findings (PLANTED.txt)",
        out.display(),
        planted.len()
    );
}

fn py_chat(i: usize) -> String {
    r#"from fastapi import APIRouter
from openai import OpenAI
from pydantic import BaseModel

router = APIRouter()
client = OpenAI()


class Ask(BaseModel):
    prompt: str
    max_tokens: int = 512


@router.post("/chat/{i}")
async def chat_{i}(body: Ask) -> dict:
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": body.prompt}],
        max_tokens=body.max_tokens,
    )
    return {"reply": reply.choices[0].message.content}
"#
    .replace("{i}", &i.to_string())
}

fn next_chat() -> String {
    r#"import OpenAI from "openai";

const openai = new OpenAI();

export async function POST(req: Request) {
  const { prompt } = await req.json();
  const res = await openai.chat.completions.create({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: prompt }],
    max_tokens: 256,
  });
  return Response.json({ reply: res.choices[0].message.content });
}
"#
    .to_string()
}

fn words(rng: &mut fastrand::Rng, n: usize) -> String {
    const W: [&str; 16] = [
        "user", "order", "item", "price", "cart", "session", "theme", "layout", "query", "result",
        "cache", "state", "props", "value", "handler", "config",
    ];
    (0..n)
        .map(|_| W[rng.usize(..W.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

fn tsx_file(i: usize, rng: &mut fastrand::Rng) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "import React, {{ useState, useEffect }} from \"react\";");
    let _ = writeln!(s, "import {{ Button }} from \"@acme/ui\";");
    if i.is_multiple_of(3) {
        let _ = writeln!(s, "import {{ helper{} }} from \"./util{}\";", i + 4, i + 4);
    }
    let _ = writeln!(
        s,
        "\ntype Props = {{ id: number; title: string; items: string[] }};\n"
    );
    let _ = writeln!(
        s,
        "export function Component{i}({{ id, title, items }}: Props) {{"
    );
    let _ = writeln!(s, "  const [open, setOpen] = useState(false);");
    let _ = writeln!(
        s,
        "  useEffect(() => {{ document.title = `${{title}} ${{id}}`; }}, [title, id]);"
    );
    let _ = writeln!(
        s,
        "  return (\n    <section className=\"card\" data-id={{id}}>"
    );
    for _ in 0..rng.usize(4..24) {
        let _ = writeln!(s, "      <p className=\"line\">{}</p>", words(rng, 6));
    }
    let _ = writeln!(
        s,
        "      <Button onClick={{() => setOpen(!open)}}>{{open ? \"Close\" : \"Open\"}}</Button>"
    );
    let _ = writeln!(
        s,
        "      <ul>{{items.map((x) => <li key={{x}}>{{x}}</li>)}}</ul>\n    </section>\n  );\n}}"
    );
    s
}

fn ts_file(i: usize, rng: &mut fastrand::Rng) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "import {{ z }} from \"zod\";\n");
    let _ = writeln!(
        s,
        "export const schema{i} = z.object({{ id: z.number(), name: z.string() }});\n"
    );
    for j in 0..rng.usize(3..16) {
        let _ = writeln!(
            s,
            "export function helper{}(input: string, n = {j}): string {{",
            i + j
        );
        let _ = writeln!(s, "  // {}", words(rng, 8));
        let _ = writeln!(
            s,
            "  return input.repeat(n).slice(0, {}).toUpperCase();\n}}\n",
            10 + j
        );
    }
    s
}

fn py_file(i: usize, rng: &mut fastrand::Rng) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "import dataclasses\nimport logging\nfrom typing import Optional\n\nlog = logging.getLogger(__name__)\n");
    if i.is_multiple_of(5) {
        let _ = writeln!(s, "from fastapi import APIRouter\n\nrouter = APIRouter()\n");
        let _ = writeln!(s, "@router.get(\"/items/{i}\")\nasync def get_item_{i}(item_id: int) -> dict:\n    return {{\"id\": item_id}}\n");
    }
    let _ = writeln!(s, "@dataclasses.dataclass\nclass Record{i}:");
    let _ = writeln!(
        s,
        "    \"\"\"{}\"\"\"\n    id: int\n    name: Optional[str] = None\n",
        words(rng, 6)
    );
    for j in 0..rng.usize(2..10) {
        let _ = writeln!(s, "    def method_{j}(self, value: int) -> int:");
        let _ = writeln!(s, "        log.debug(\"{}\", value)", words(rng, 4));
        let _ = writeln!(s, "        return value * {j} + self.id\n");
    }
    s
}

fn json_file(i: usize, rng: &mut fastrand::Rng) -> String {
    let entries: Vec<String> = (0..rng.usize(5..40))
        .map(|j| {
            format!(
                "  \"key{j}\": {{ \"id\": {}, \"label\": \"{}\" }}",
                i * 100 + j,
                words(rng, 3)
            )
        })
        .collect();
    format!("{{\n{}\n}}\n", entries.join(",\n"))
}

fn md_file(i: usize, rng: &mut fastrand::Rng) -> String {
    let mut s = format!("# Notes {i}\n\n");
    for _ in 0..rng.usize(3..20) {
        let _ = writeln!(s, "- {}\n", words(rng, 12));
    }
    s
}
