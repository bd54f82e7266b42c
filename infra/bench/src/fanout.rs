//! `fanout --clients N`: the phase-1 kickoff to N linked clients. Prints
//! `fanout clients=N seconds=S floor=F ratio=R violations=V lost=L`, where F is the time
//! Telegram's 30 messages a second allow at best (N/30) and R = S/F.

use crate::host::World;
use crate::{Error, Options, seed};
use std::time::Instant;

pub async fn run(options: &Options) -> Result<(), Error> {
    let n = options.clients;
    let world = World::start().await?;
    seed::clients(&world.store, n).await?;
    let advised = seed::processes(&world.store, n, 1).await?;
    let scheduler = world.function("scheduler", false, options.lambda_memory_mb).await?;

    let started = Instant::now();
    let report = scheduler.start(&advised[0].process).await?;
    let seconds = started.elapsed().as_secs_f64();

    let delivered = (0..n).filter(|i| world.fake.sent(seed::chat(*i).0).len() == 1).count();
    let lost = n - delivered;
    let floor = n as f64 / 30.0;
    println!(
        "fanout clients={n} seconds={seconds:.2} floor={floor:.2} ratio={:.3} violations={} lost={lost}",
        seconds / floor,
        world.fake.violations()
    );
    let stats = scheduler.stats().await?;
    eprintln!(
        "fanout: store requests per send {:.2} ({:?}), refused writes {} of {}{}",
        stats.store_total() as f64 / delivered.max(1) as f64,
        stats.store,
        stats.store_refused,
        stats.store_writes,
        crate::burst::throttling(&[&scheduler]),
    );
    if let Some(error) = report.error {
        eprintln!("bench: the kickoff failed: {error}");
    } else if report.sent != n {
        eprintln!("bench: sent {} of {n}; failed: {:?}", report.sent, report.failed.first());
    }
    scheduler.stop().await;
    Ok(())
}
