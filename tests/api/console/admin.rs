//! An administrator downloads the attendance CSV from the reports screen: the file is what the
//! API serves for the same filters; the attendance-rate chart is drawn.

use std::time::{Duration, Instant};

use super::{api_login, demo, with_browser};
use crate::helpers::TestApp;

#[actix_web::test]
async fn admin_downloads_the_attendance_csv() {
    let app = TestApp::spawn().await;
    demo(&app).await;
    let admin = api_login(&app, "admin").await;
    let mut downloaded = None;
    let mut window = None;
    with_browser(&app, |b| {
        let (downloaded, window) = (&mut downloaded, &mut window);
        async move {
            b.sign_in_demo("admin").await;
            b.click_text("Reports").await;
            b.wait(".chart svg rect.bar").await;
            let from = b
                .wait("form[aria-label='Attendance report'] [name=from]")
                .await;
            let to = b
                .wait("form[aria-label='Attendance report'] [name=to]")
                .await;
            *window = Some((
                from.prop("value").await.unwrap().unwrap(),
                to.prop("value").await.unwrap().unwrap(),
            ));
            b.screenshot("reports").await;
            b.click_text("Download attendance CSV").await;
            b.wait_text("Downloaded ").await;
            // The browser writes the file; wait for it to be complete (no .crdownload).
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let files: Vec<_> = std::fs::read_dir(&b.downloads)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .collect();
                if let [f] = files.as_slice() {
                    if f.extension().is_some_and(|e| e == "csv") {
                        *downloaded = Some((
                            f.file_name().unwrap().to_string_lossy().into_owned(),
                            std::fs::read_to_string(f).unwrap(),
                        ));
                        break;
                    }
                }
                assert!(
                    Instant::now() < deadline,
                    "no download in {:?}: {files:?}",
                    b.downloads
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    })
    .await;
    let (name, body) = downloaded.unwrap();
    let (from, to) = window.unwrap();
    let expected = app
        .get(
            Some(&admin),
            &format!("/reports/attendance?format=csv&from={from}&to={to}"),
        )
        .await
        .expect(200);
    assert!(name.ends_with(".csv"), "{name}");
    assert!(
        expected
            .header("content-disposition")
            .unwrap()
            .contains(&name),
        "{name}"
    );
    assert_eq!(body, expected.text);
    assert!(body.lines().count() > 20, "the demo's attendance: {body}");
}
