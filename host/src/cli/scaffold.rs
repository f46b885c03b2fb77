//! `plugin new`: write a ready-to-build plugin project.

use anyhow::{Context, bail};

use super::{Kind, Lang, NewArgs};

/// The plugin contract this binary was built against, shipped in Python
/// projects (componentize-py reads WIT at build time). Rust projects get it
/// inside their copy of the SDK.
const WIT: &str = include_str!("../../../wit/plugin.wit");

/// The SDK sources, the WIT and the lockfile, embedded by build.rs.
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/sdk_files.rs"));
}

pub use embedded::WIT_VERSION;

/// Where a Rust project keeps its copy of the SDK, relative to its root.
const SDK_DIR: &str = "sdk";

/// The npm packages a JavaScript/TypeScript project builds with, pinned to
/// the versions this binary's tests build with (scripts/plugin-kits installs
/// them from a project scaffolded by this very code). Changing one means
/// regenerating `templates/js_package-lock.json`: scaffold a TS project,
/// delete its lockfile, `npm install`, copy the lockfile back with the
/// project's name as `@NAME@` and the root's devDependencies as
/// `@LOCK_DEV_DEPENDENCIES@` (a unit test checks the root matches).
const JCO_VERSION: &str = "1.35.0";
/// componentize-js, which jco drives.
const COMPONENTIZE_JS_VERSION: &str = "0.23.0";
/// The type checker of TypeScript projects.
const TYPESCRIPT_VERSION: &str = "7.0.2";
/// jco 1.35.0 with preview2-shim 0.26.1 cannot read a `wit/` folder
/// ("failed to get path metadata"); 0.26.0 can.
const PREVIEW2_SHIM_VERSION: &str = "0.26.0";

pub fn run(args: &NewArgs) -> anyhow::Result<i32> {
    let name = args.name.as_str();
    // Style names are `<name>-checklist` etc. and must stay within 64 chars;
    // a leading letter keeps the name a valid Cargo package name too.
    let valid = name.len() <= 48
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if !valid {
        bail!(
            "invalid plugin name '{name}': use lower-case letters, digits and '-', starting with a letter, at most 48 characters"
        );
    }
    let root = args.dir.join(name);
    if root.exists()
        && std::fs::read_dir(&root)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!("{} already exists and is not empty", root.display());
    }
    let files = match args.lang {
        Lang::Rust => rust_files(name, args.kind),
        Lang::Python => python_files(name, args.kind),
        Lang::Js | Lang::Ts => js_files(name, args.kind, args.lang),
    };
    for (rel, text) in &files {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "created {} plugin '{name}' ({}) in {}",
        args.kind.as_str(),
        args.lang.display_name(),
        root.display()
    );
    for (rel, _) in &files {
        // The SDK copy is one line, not one per source file.
        if !std::path::Path::new(rel).starts_with(SDK_DIR) {
            println!("  {rel}");
        }
    }
    if args.lang == Lang::Rust {
        println!(
            "  {SDK_DIR}/  (promptsculptor-sdk for WIT promptsculptor:plugin@{WIT_VERSION}, from this binary)"
        );
    }
    let setup = match args.lang {
        Lang::Js | Lang::Ts => {
            "\n  npm install                   # jco and componentize-js (~30 s)"
        }
        Lang::Rust | Lang::Python => "",
    };
    println!(
        "next:\n  cd {}{setup}\n  promptsculptor plugin build   # into $PROMPTSCULPTOR_PLUGINS_DIR, else ./plugins; or --plugins-dir DIR, --publish URL",
        root.display()
    );
    Ok(0)
}

fn fill(template: &str, name: &str, kind: Kind, sdk: &str) -> String {
    let try_it = match kind {
        Kind::Remix => format!(
            "curl -s localhost:8080/api/v1/remix -H 'content-type: application/json' \\\n  -d '{{\"prompt\": \"Summarise {{{{doc}}}} for {{{{audience}}}}.\", \"style\": \"{name}-plain\", \"strategy\": \"{name}\", \"use_llm\": false}}'"
        ),
        Kind::Analyze => format!(
            "curl -s localhost:8080/api/v1/analyze -H 'content-type: application/json' \\\n  -d '{{\"prompt\": \"Write about {{{{topic}}}}.\", \"strategy\": \"{name}\", \"use_llm\": false}}'"
        ),
        Kind::Create => format!(
            "curl -s localhost:8080/api/v1/create -H 'content-type: application/json' \\\n  -d '{{\"goal\": \"Classify tickets by urgency\", \"variables\": [\"ticket\"], \"strategy\": \"{name}\", \"use_llm\": false}}'"
        ),
        // A case with a stored output is graded offline (no provider).
        Kind::Grade => format!(
            "curl -s localhost:8080/api/v1/evaluate -H 'content-type: application/json' \\\n  -d '{{\"prompts\": [{{\"id\": \"a\", \"prompt\": \"Describe {{{{product}}}} briefly.\"}}], \"cases\": [{{\"id\": \"c1\", \"vars\": {{\"product\": \"a kettle\"}}, \"output\": \"A kettle boils water.\", \"assert\": [{{\"type\": \"grader\", \"value\": \"{name}\", \"config\": {{\"max_words\": 5}}}}]}}]}}'"
        ),
    };
    template
        .replace("@NAME@", name)
        .replace("@CRATE@", &name.replace('-', "_"))
        .replace("@KIND@", kind.as_str())
        .replace("@WORLD@", kind.world())
        .replace("@SDK_PATH@", sdk)
        .replace("@WIT_VERSION@", WIT_VERSION)
        .replace("@HOST_VERSION@", env!("CARGO_PKG_VERSION"))
        .replace("@TRY@", &try_it)
}

/// A Rust project: the crate, and the SDK it depends on by a relative
/// path, so the project builds wherever it is copied and needs nothing from
/// a PromptSculptor checkout.
fn rust_files(name: &str, kind: Kind) -> Vec<(String, String)> {
    let sdk = format!("{SDK_DIR}/plugins/sdk");
    let lib = match kind {
        Kind::Analyze => include_str!("templates/rust_analyze.rs"),
        Kind::Remix => include_str!("templates/rust_remix.rs"),
        Kind::Create => include_str!("templates/rust_create.rs"),
        Kind::Grade => include_str!("templates/rust_grade.rs"),
    };
    let mut files = vec![
        (
            "Cargo.toml".into(),
            fill(include_str!("templates/rust_Cargo.toml"), name, kind, &sdk),
        ),
        ("src/lib.rs".into(), fill(lib, name, kind, &sdk)),
        (
            "README.md".into(),
            fill(include_str!("templates/README_rust.md"), name, kind, &sdk),
        ),
        (
            ".gitignore".into(),
            include_str!("templates/gitignore").into(),
        ),
        (
            "rustfmt.toml".into(),
            include_str!("templates/rustfmt.toml").into(),
        ),
        // The versions the SDK was tested with, and no registry look-up
        // before the first build.
        ("Cargo.lock".into(), embedded::SDK_LOCKFILE.into()),
        (
            format!("{SDK_DIR}/README.md"),
            fill(include_str!("templates/sdk_README.md"), name, kind, &sdk),
        ),
    ];
    for (rel, text) in embedded::SDK_FILES {
        files.push((format!("{SDK_DIR}/{rel}"), (*text).to_string()));
    }
    files
}

fn python_files(name: &str, kind: Kind) -> Vec<(String, String)> {
    let app = match kind {
        Kind::Analyze => include_str!("templates/py_analyze.py"),
        Kind::Remix => include_str!("templates/py_remix.py"),
        Kind::Create => include_str!("templates/py_create.py"),
        Kind::Grade => include_str!("templates/py_grade.py"),
    };
    vec![
        ("app.py".into(), fill(app, name, kind, "")),
        (
            "promptsculptor_kit.py".into(),
            fill(include_str!("templates/py_kit.py"), name, kind, ""),
        ),
        (
            "pyproject.toml".into(),
            fill(include_str!("templates/py_pyproject.toml"), name, kind, ""),
        ),
        ("wit/plugin.wit".into(), WIT.into()),
        (
            "README.md".into(),
            fill(include_str!("templates/README_python.md"), name, kind, ""),
        ),
        (
            ".gitignore".into(),
            include_str!("templates/gitignore").into(),
        ),
    ]
}

/// A JavaScript or TypeScript project: the module, the kit, the WIT (jco
/// reads it at build time) and a package.json pinning the build tools.
fn js_files(name: &str, kind: Kind, lang: Lang) -> Vec<(String, String)> {
    let ts = lang == Lang::Ts;
    let (source, app) = match (kind, ts) {
        (Kind::Analyze, false) => ("app.js", include_str!("templates/js_analyze.js")),
        (Kind::Remix, false) => ("app.js", include_str!("templates/js_remix.js")),
        (Kind::Create, false) => ("app.js", include_str!("templates/js_create.js")),
        (Kind::Grade, false) => ("app.js", include_str!("templates/js_grade.js")),
        (Kind::Analyze, true) => ("app.ts", include_str!("templates/ts_analyze.ts")),
        (Kind::Remix, true) => ("app.ts", include_str!("templates/ts_remix.ts")),
        (Kind::Create, true) => ("app.ts", include_str!("templates/ts_create.ts")),
        (Kind::Grade, true) => ("app.ts", include_str!("templates/ts_grade.ts")),
    };
    let mut dev = vec![
        ("@bytecodealliance/componentize-js", COMPONENTIZE_JS_VERSION),
        ("@bytecodealliance/jco", JCO_VERSION),
    ];
    if ts {
        dev.push(("typescript", TYPESCRIPT_VERSION));
    }
    // The same list in package.json and at the lockfile's root, indented for each.
    let dev_list = |indent: &str| {
        dev.iter()
            .map(|(package, version)| format!("{indent}\"{package}\": \"{version}\""))
            .collect::<Vec<_>>()
            .join(",\n")
    };
    let (dev, lock_dev) = (dev_list("    "), dev_list("        "));
    let js = |template: &str| {
        fill(template, name, kind, "")
            .replace("@LANG_NAME@", lang.display_name())
            .replace("@SOURCE@", source)
            .replace("@DEV_DEPENDENCIES@", &dev)
            .replace("@LOCK_DEV_DEPENDENCIES@", &lock_dev)
            .replace("@JCO_VERSION@", JCO_VERSION)
            .replace("@COMPONENTIZE_JS_VERSION@", COMPONENTIZE_JS_VERSION)
            .replace("@PREVIEW2_SHIM_VERSION@", PREVIEW2_SHIM_VERSION)
            .replace(
                "@TS_SETUP@",
                &if ts {
                    format!(", TypeScript {TYPESCRIPT_VERSION}")
                } else {
                    String::new()
                },
            )
            .replace(
                "@TS_TYPES@",
                if ts {
                    "\nThe typed bindings of the world are generated from `wit/` into `types/` by\n`npm run types` (and by every build); `tsconfig.json` includes them.\n"
                } else {
                    ""
                },
            )
            .replace(
                "@TS_BUILD@",
                if ts {
                    "generates `types/` from `wit/`, type-checks with `tsc --noEmit` (a type\nerror stops the build), "
                } else {
                    ""
                },
            )
    };
    let mut files = vec![
        (source.to_string(), js(app)),
        (
            "promptsculptor-kit.js".into(),
            js(include_str!("templates/js_kit.js")),
        ),
        (
            "package.json".into(),
            js(include_str!("templates/js_package.json")),
        ),
        // Every transitive version as the suite tested it: jco's own
        // dependencies have ranges, and one release in them (preview2-shim
        // 0.26.1) already broke the build once. TypeScript is in it for JS
        // projects too, as a dependency of jco.
        (
            "package-lock.json".into(),
            js(include_str!("templates/js_package-lock.json")),
        ),
        ("wit/plugin.wit".into(), WIT.into()),
        (
            "README.md".into(),
            js(include_str!("templates/README_js.md")),
        ),
        (
            ".gitignore".into(),
            include_str!("templates/js_gitignore").into(),
        ),
    ];
    if ts {
        files.push((
            "promptsculptor-kit.d.ts".into(),
            js(include_str!("templates/js_kit.d.ts")),
        ));
        files.push((
            "tsconfig.json".into(),
            include_str!("templates/ts_tsconfig.json").into(),
        ));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(files: &[(String, String)], name: &str) -> serde_json::Value {
        let (_, text) = files.iter().find(|(rel, _)| rel == name).expect(name);
        serde_json::from_str(text).expect("valid JSON")
    }

    #[test]
    fn every_template_is_filled() {
        let left = regex::Regex::new("@[A-Z_]+@").expect("regex");
        for kind in [Kind::Analyze, Kind::Remix, Kind::Create, Kind::Grade] {
            let projects = [
                rust_files("p", kind),
                python_files("p", kind),
                js_files("p", kind, Lang::Js),
                js_files("p", kind, Lang::Ts),
            ];
            for (rel, text) in projects.iter().flatten() {
                assert!(
                    !left.is_match(text),
                    "{kind:?} {rel}: {:?}",
                    left.find(text)
                );
            }
        }
    }

    #[test]
    fn the_lockfile_pins_what_package_json_asks_for() {
        for lang in [Lang::Js, Lang::Ts] {
            let files = js_files("my-kit", Kind::Remix, lang);
            let package = json(&files, "package.json");
            let lock = json(&files, "package-lock.json");
            assert_eq!(lock["name"], "my-kit");
            assert_eq!(lock["packages"][""]["name"], "my-kit");
            assert_eq!(lock["packages"][""]["version"], package["version"]);
            assert_eq!(
                lock["packages"][""]["devDependencies"], package["devDependencies"],
                "{lang:?}"
            );
            let locked = |p: &str| lock["packages"][format!("node_modules/{p}")]["version"].clone();
            assert_eq!(locked("@bytecodealliance/jco"), JCO_VERSION);
            assert_eq!(
                locked("@bytecodealliance/componentize-js"),
                COMPONENTIZE_JS_VERSION
            );
            assert_eq!(locked("typescript"), TYPESCRIPT_VERSION);
            assert_eq!(
                locked("@bytecodealliance/preview2-shim"),
                PREVIEW2_SHIM_VERSION
            );
            assert_eq!(
                package["overrides"]["@bytecodealliance/preview2-shim"],
                PREVIEW2_SHIM_VERSION
            );
        }
    }
}
