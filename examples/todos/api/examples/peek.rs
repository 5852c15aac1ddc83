use accord::Api;
fn main() {
    let d = todos_api::TodosApi::description();
    let cfg = accord::__private::ts_rs::Config::new().with_large_int(accord::TS_LARGE_INT_SENTINEL);
    let mut decls = accord::Declarations::default();
    let mut g = accord::__private::schemars::generate::SchemaSettings::draft07().into_generator();
    for p in &d.procedures {
        println!(
            "{} {:?} in={:?} out={} err={}",
            p.name,
            p.kind,
            p.input.map(|i| i.ts_name(&cfg)),
            p.output.ts_name(&cfg),
            p.error.ts_name(&cfg)
        );
        p.output.ts_declarations(&cfg, &mut decls);
        p.error.ts_declarations(&cfg, &mut decls);
        if let Some(i) = p.input {
            i.ts_declarations(&cfg, &mut decls);
            let _ = i.json_schema(&mut g);
        }
        let s = p.error.json_schema(&mut g);
        let _ = p.output.json_schema(&mut g);
        if p.rust_name == "get" {
            println!("{}", serde_json::to_string(&s).unwrap());
        }
    }
    for (n, d) in &decls.by_name {
        println!("--- {n}\n{}", d.source);
    }
    println!("{:?}", decls.clashes);
    println!("{}", serde_json::to_string_pretty(&g.definitions()).unwrap());
}
